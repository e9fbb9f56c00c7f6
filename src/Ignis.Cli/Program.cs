return await Ignis.Cli.CliApp.RunAsync(args, Ignis.Cli.CliEnvironment.FromProcess());
