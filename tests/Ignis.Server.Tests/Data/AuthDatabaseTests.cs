using Ignis.Server.Data;
using Ignis.Server.Hosting;

namespace Ignis.Server.Tests.Data;

public sealed class AuthDatabaseTests
{
    [Fact]
    public async Task The_auth_tables_open_on_a_data_folder_that_nothing_has_made_yet()
    {
        // Start-up migrates the auth tables beside the FHIR store and the keys, so nothing else may have made the
        // folder when the auth side first opens the database.
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-test-" + Guid.NewGuid().ToString("N"), "data");
        try
        {
            var database = AuthDatabase.Create(new IgnisOptions { DataDirectory = dataDir });
            (await database.HasMigrationHistoryAsync()).ShouldBeFalse();
            File.Exists(Path.Combine(dataDir, "ignis.db")).ShouldBeTrue();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Path.GetDirectoryName(dataDir)!, recursive: true);
        }
    }
}
