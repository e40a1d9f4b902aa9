using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AvalaRestRoutes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "LastResponseBody",
                table: "webhook_deliveries",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "UpdatedAt",
                table: "webhook_deliveries",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            // A delivery from before was last touched when it was delivered, or else when it was made.
            migrationBuilder.Sql("UPDATE webhook_deliveries SET \"UpdatedAt\" = COALESCE(\"DeliveredAt\", \"CreatedAt\")");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastResponseBody",
                table: "webhook_deliveries");

            migrationBuilder.DropColumn(
                name: "UpdatedAt",
                table: "webhook_deliveries");
        }
    }
}
