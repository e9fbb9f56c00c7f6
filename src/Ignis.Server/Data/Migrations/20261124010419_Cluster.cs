using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Ignis.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class Cluster : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuthRateCounters",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    WindowStart = table.Column<long>(type: "INTEGER", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuthRateCounters", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "AuthSigningKeys",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Material = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ActivatesAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuthSigningKeys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuthRateCounters_WindowStart",
                table: "AuthRateCounters",
                column: "WindowStart");

            migrationBuilder.CreateIndex(
                name: "IX_AuthSigningKeys_Kind_ActivatesAt",
                table: "AuthSigningKeys",
                columns: new[] { "Kind", "ActivatesAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuthRateCounters");

            migrationBuilder.DropTable(
                name: "AuthSigningKeys");
        }
    }
}
