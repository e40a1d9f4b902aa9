using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatasetVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ChangeSeq",
                table: "results",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "SinceExport",
                table: "exports",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SinceVersion",
                table: "exports",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Versions",
                table: "exports",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<long>(
                name: "ChangeSeq",
                table: "dataset_items",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "dataset_versions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Uid = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<long>(type: "INTEGER", nullable: false),
                    DatasetId = table.Column<long>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Projects = table.Column<string>(type: "TEXT", nullable: false),
                    Seq = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_dataset_versions_datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_dataset_versions_organizations_OrganizationId",
                        column: x => x.OrganizationId,
                        principalTable: "organizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_results_ChangeSeq",
                table: "results",
                column: "ChangeSeq");

            migrationBuilder.CreateIndex(
                name: "IX_dataset_items_DatasetId_ChangeSeq",
                table: "dataset_items",
                columns: new[] { "DatasetId", "ChangeSeq" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_versions_DatasetId_Seq",
                table: "dataset_versions",
                columns: new[] { "DatasetId", "Seq" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_versions_OrganizationId_Id",
                table: "dataset_versions",
                columns: new[] { "OrganizationId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_versions_Uid",
                table: "dataset_versions",
                column: "Uid",
                unique: true);

            // Hand-written: the change epoch and the row history behind dataset versions (docs/versions.md).
            // The epoch starts at 0, the default of every row, and moves only when a version is created, so
            // until then the stamping triggers find nothing to do.
            migrationBuilder.Sql(
                """
                CREATE TABLE change_epoch ("Id" INTEGER NOT NULL PRIMARY KEY, "Value" INTEGER NOT NULL);
                INSERT INTO change_epoch ("Id", "Value") VALUES (1, 0);

                CREATE TABLE dataset_item_history (
                    "Id" INTEGER NOT NULL, "Uid" TEXT NOT NULL, "DatasetId" INTEGER NOT NULL, "RefId" TEXT NOT NULL,
                    "Metadata" TEXT NOT NULL, "Width" INTEGER NULL, "Height" INTEGER NULL, "MediaUrl" TEXT NULL,
                    "MediaKey" TEXT NULL, "MediaContentType" TEXT NULL, "MediaLength" INTEGER NULL,
                    "CreatedAt" TEXT NOT NULL, "UpdatedAt" TEXT NOT NULL, "ChangeSeq" INTEGER NOT NULL, "ValidTo" INTEGER NOT NULL,
                    PRIMARY KEY ("Id", "ChangeSeq"));
                CREATE INDEX "IX_dataset_item_history_DatasetId_ValidTo" ON dataset_item_history ("DatasetId", "ValidTo");
                CREATE INDEX "IX_dataset_item_history_MediaKey" ON dataset_item_history ("MediaKey") WHERE "MediaKey" IS NOT NULL;

                CREATE TABLE result_history (
                    "Id" INTEGER NOT NULL, "Uid" TEXT NOT NULL, "DatasetItemId" INTEGER NOT NULL, "ProjectId" INTEGER NOT NULL,
                    "Annotations" TEXT NOT NULL, "AnnotationCount" INTEGER NOT NULL, "CreatedAt" TEXT NOT NULL, "UpdatedAt" TEXT NOT NULL,
                    "ChangeSeq" INTEGER NOT NULL, "DatasetId" INTEGER NOT NULL, "ValidTo" INTEGER NOT NULL,
                    PRIMARY KEY ("Id", "ChangeSeq"));
                CREATE INDEX "IX_result_history_DatasetId_ValidTo" ON result_history ("DatasetId", "ValidTo");

                CREATE TRIGGER dataset_items_stamp_insert AFTER INSERT ON dataset_items
                WHEN NEW."ChangeSeq" <> (SELECT "Value" FROM change_epoch WHERE "Id" = 1)
                BEGIN
                    UPDATE dataset_items SET "ChangeSeq" = (SELECT "Value" FROM change_epoch WHERE "Id" = 1) WHERE "Id" = NEW."Id";
                END;

                -- The stamp itself changes ChangeSeq, so it never runs this trigger again.
                CREATE TRIGGER dataset_items_versioned_update AFTER UPDATE ON dataset_items
                WHEN NEW."ChangeSeq" = OLD."ChangeSeq"
                BEGIN
                    INSERT OR IGNORE INTO dataset_item_history ("Id", "Uid", "DatasetId", "RefId", "Metadata", "Width", "Height", "MediaUrl", "MediaKey", "MediaContentType", "MediaLength", "CreatedAt", "UpdatedAt", "ChangeSeq", "ValidTo")
                    SELECT OLD."Id", OLD."Uid", OLD."DatasetId", OLD."RefId", OLD."Metadata", OLD."Width", OLD."Height", OLD."MediaUrl", OLD."MediaKey", OLD."MediaContentType", OLD."MediaLength", OLD."CreatedAt", OLD."UpdatedAt", OLD."ChangeSeq", e."Value" FROM change_epoch AS e
                    WHERE e."Id" = 1 AND e."Value" > OLD."ChangeSeq"
                      AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = OLD."DatasetId" AND v."Seq" >= OLD."ChangeSeq");
                    UPDATE dataset_items SET "ChangeSeq" = (SELECT "Value" FROM change_epoch WHERE "Id" = 1)
                    WHERE "Id" = NEW."Id" AND "ChangeSeq" <> (SELECT "Value" FROM change_epoch WHERE "Id" = 1);
                END;

                -- An item's results go with it (cascade), so they are kept here while the item is still there.
                CREATE TRIGGER dataset_items_versioned_delete BEFORE DELETE ON dataset_items
                BEGIN
                    INSERT OR IGNORE INTO dataset_item_history ("Id", "Uid", "DatasetId", "RefId", "Metadata", "Width", "Height", "MediaUrl", "MediaKey", "MediaContentType", "MediaLength", "CreatedAt", "UpdatedAt", "ChangeSeq", "ValidTo")
                    SELECT OLD."Id", OLD."Uid", OLD."DatasetId", OLD."RefId", OLD."Metadata", OLD."Width", OLD."Height", OLD."MediaUrl", OLD."MediaKey", OLD."MediaContentType", OLD."MediaLength", OLD."CreatedAt", OLD."UpdatedAt", OLD."ChangeSeq", e."Value" FROM change_epoch AS e
                    WHERE e."Id" = 1 AND e."Value" > OLD."ChangeSeq"
                      AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = OLD."DatasetId" AND v."Seq" >= OLD."ChangeSeq");
                    INSERT OR IGNORE INTO result_history ("Id", "Uid", "DatasetItemId", "ProjectId", "Annotations", "AnnotationCount", "CreatedAt", "UpdatedAt", "ChangeSeq", "DatasetId", "ValidTo")
                    SELECT r."Id", r."Uid", r."DatasetItemId", r."ProjectId", r."Annotations", r."AnnotationCount", r."CreatedAt", r."UpdatedAt", r."ChangeSeq", OLD."DatasetId", e."Value" FROM results AS r, change_epoch AS e
                    WHERE e."Id" = 1 AND r."DatasetItemId" = OLD."Id" AND e."Value" > r."ChangeSeq"
                      AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = OLD."DatasetId" AND v."Seq" >= r."ChangeSeq");
                END;

                CREATE TRIGGER results_stamp_insert AFTER INSERT ON results
                WHEN NEW."ChangeSeq" <> (SELECT "Value" FROM change_epoch WHERE "Id" = 1)
                BEGIN
                    UPDATE results SET "ChangeSeq" = (SELECT "Value" FROM change_epoch WHERE "Id" = 1) WHERE "Id" = NEW."Id";
                END;

                CREATE TRIGGER results_versioned_update AFTER UPDATE ON results
                WHEN NEW."ChangeSeq" = OLD."ChangeSeq"
                BEGIN
                    INSERT OR IGNORE INTO result_history ("Id", "Uid", "DatasetItemId", "ProjectId", "Annotations", "AnnotationCount", "CreatedAt", "UpdatedAt", "ChangeSeq", "DatasetId", "ValidTo")
                    SELECT OLD."Id", OLD."Uid", OLD."DatasetItemId", OLD."ProjectId", OLD."Annotations", OLD."AnnotationCount", OLD."CreatedAt", OLD."UpdatedAt", OLD."ChangeSeq", i."DatasetId", e."Value" FROM change_epoch AS e, dataset_items AS i
                    WHERE e."Id" = 1 AND i."Id" = OLD."DatasetItemId" AND e."Value" > OLD."ChangeSeq"
                      AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = i."DatasetId" AND v."Seq" >= OLD."ChangeSeq");
                    UPDATE results SET "ChangeSeq" = (SELECT "Value" FROM change_epoch WHERE "Id" = 1)
                    WHERE "Id" = NEW."Id" AND "ChangeSeq" <> (SELECT "Value" FROM change_epoch WHERE "Id" = 1);
                END;

                CREATE TRIGGER results_versioned_delete BEFORE DELETE ON results
                BEGIN
                    INSERT OR IGNORE INTO result_history ("Id", "Uid", "DatasetItemId", "ProjectId", "Annotations", "AnnotationCount", "CreatedAt", "UpdatedAt", "ChangeSeq", "DatasetId", "ValidTo")
                    SELECT OLD."Id", OLD."Uid", OLD."DatasetItemId", OLD."ProjectId", OLD."Annotations", OLD."AnnotationCount", OLD."CreatedAt", OLD."UpdatedAt", OLD."ChangeSeq", i."DatasetId", e."Value" FROM change_epoch AS e, dataset_items AS i
                    WHERE e."Id" = 1 AND i."Id" = OLD."DatasetItemId" AND e."Value" > OLD."ChangeSeq"
                      AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = i."DatasetId" AND v."Seq" >= OLD."ChangeSeq");
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP TRIGGER results_versioned_delete; DROP TRIGGER results_versioned_update; DROP TRIGGER results_stamp_insert;
                DROP TRIGGER dataset_items_versioned_delete; DROP TRIGGER dataset_items_versioned_update; DROP TRIGGER dataset_items_stamp_insert;
                DROP TABLE result_history; DROP TABLE dataset_item_history; DROP TABLE change_epoch;
                """);

            migrationBuilder.DropTable(
                name: "dataset_versions");

            migrationBuilder.DropIndex(
                name: "IX_results_ChangeSeq",
                table: "results");

            migrationBuilder.DropIndex(
                name: "IX_dataset_items_DatasetId_ChangeSeq",
                table: "dataset_items");

            migrationBuilder.DropColumn(
                name: "ChangeSeq",
                table: "results");

            migrationBuilder.DropColumn(
                name: "SinceExport",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "SinceVersion",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "Versions",
                table: "exports");

            migrationBuilder.DropColumn(
                name: "ChangeSeq",
                table: "dataset_items");
        }
    }
}
