using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ExportClaimToken : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "ClaimToken",
                table: "exports",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ClaimToken",
                table: "exports");
        }
    }
}
