using Ignis.Server.Hosting;

IgnisApp.Build(args).Run();

public partial class Program;
