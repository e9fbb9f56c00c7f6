using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ignis.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class BackendServices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuthClientAssertionJtis",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuthClientAssertionJtis", x => x.Key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuthClientAssertionJtis_ExpiresAt",
                table: "AuthClientAssertionJtis",
                column: "ExpiresAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuthClientAssertionJtis");
        }
    }
}
