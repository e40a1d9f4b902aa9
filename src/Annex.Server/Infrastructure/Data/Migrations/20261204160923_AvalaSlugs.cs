using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations
{
    /// <inheritdoc />
    public partial class AvalaSlugs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_slices_OrganizationId",
                table: "slices");

            migrationBuilder.AddColumn<bool>(
                name: "IsActive",
                table: "webhooks",
                type: "INTEGER",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "UpdatedAt",
                table: "webhooks",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<string>(
                name: "Slug",
                table: "slices",
                type: "TEXT",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Visibility",
                table: "slices",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "private");

            migrationBuilder.AddColumn<string>(
                name: "Slug",
                table: "organizations",
                type: "TEXT",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "DataType",
                table: "datasets",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "image");

            migrationBuilder.AddColumn<string>(
                name: "Slug",
                table: "datasets",
                type: "TEXT",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Visibility",
                table: "datasets",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "private");

            // Rows from before slugs get one derived from their id: unique, and readable enough until renamed.
            migrationBuilder.Sql("UPDATE organizations SET \"Slug\" = 'organization-' || \"Id\"");
            migrationBuilder.Sql("UPDATE datasets SET \"Slug\" = 'dataset-' || \"Id\"");
            migrationBuilder.Sql("UPDATE slices SET \"Slug\" = 'slice-' || \"Id\"");
            migrationBuilder.Sql("UPDATE webhooks SET \"UpdatedAt\" = \"CreatedAt\"");

            migrationBuilder.CreateIndex(
                name: "IX_slices_OrganizationId_Slug",
                table: "slices",
                columns: new[] { "OrganizationId", "Slug" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_organizations_Slug",
                table: "organizations",
                column: "Slug",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_datasets_OrganizationId_Slug",
                table: "datasets",
                columns: new[] { "OrganizationId", "Slug" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_slices_OrganizationId_Slug",
                table: "slices");

            migrationBuilder.DropIndex(
                name: "IX_organizations_Slug",
                table: "organizations");

            migrationBuilder.DropIndex(
                name: "IX_datasets_OrganizationId_Slug",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "IsActive",
                table: "webhooks");

            migrationBuilder.DropColumn(
                name: "UpdatedAt",
                table: "webhooks");

            migrationBuilder.DropColumn(
                name: "Slug",
                table: "slices");

            migrationBuilder.DropColumn(
                name: "Visibility",
                table: "slices");

            migrationBuilder.DropColumn(
                name: "Slug",
                table: "organizations");

            migrationBuilder.DropColumn(
                name: "DataType",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Slug",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Visibility",
                table: "datasets");

            migrationBuilder.CreateIndex(
                name: "IX_slices_OrganizationId",
                table: "slices",
                column: "OrganizationId");
        }
    }
}
