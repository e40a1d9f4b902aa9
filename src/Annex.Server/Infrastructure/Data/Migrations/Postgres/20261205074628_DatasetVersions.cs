using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
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
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<Guid>(
                name: "SinceExport",
                table: "exports",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SinceVersion",
                table: "exports",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Versions",
                table: "exports",
                type: "text",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<long>(
                name: "ChangeSeq",
                table: "dataset_items",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "dataset_versions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Uid = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    DatasetId = table.Column<long>(type: "bigint", nullable: false),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Projects = table.Column<string>(type: "text", nullable: false),
                    Seq = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
            // Every write takes the epoch lock shared (in annex_change_epoch) and version creation takes it
            // exclusively, so a version never sees a write stamped with its epoch commit after it.
            migrationBuilder.Sql(
                """
                CREATE TABLE change_epoch ("Id" integer NOT NULL PRIMARY KEY, "Value" bigint NOT NULL);
                INSERT INTO change_epoch ("Id", "Value") VALUES (1, 0);

                CREATE TABLE dataset_item_history (
                    "Id" bigint NOT NULL, "Uid" uuid NOT NULL, "DatasetId" bigint NOT NULL, "RefId" character varying(1024) NOT NULL,
                    "Metadata" text NOT NULL, "Width" integer NULL, "Height" integer NULL, "MediaUrl" text NULL,
                    "MediaKey" character varying(512) NULL, "MediaContentType" character varying(100) NULL, "MediaLength" bigint NULL,
                    "CreatedAt" timestamp with time zone NOT NULL, "UpdatedAt" timestamp with time zone NOT NULL,
                    "ChangeSeq" bigint NOT NULL, "ValidTo" bigint NOT NULL,
                    PRIMARY KEY ("Id", "ChangeSeq"));
                CREATE INDEX "IX_dataset_item_history_DatasetId_ValidTo" ON dataset_item_history ("DatasetId", "ValidTo");
                CREATE INDEX "IX_dataset_item_history_MediaKey" ON dataset_item_history ("MediaKey") WHERE "MediaKey" IS NOT NULL;

                CREATE TABLE result_history (
                    "Id" bigint NOT NULL, "Uid" uuid NOT NULL, "DatasetItemId" bigint NOT NULL, "ProjectId" bigint NOT NULL,
                    "Annotations" text NOT NULL, "AnnotationCount" integer NOT NULL,
                    "CreatedAt" timestamp with time zone NOT NULL, "UpdatedAt" timestamp with time zone NOT NULL,
                    "ChangeSeq" bigint NOT NULL, "DatasetId" bigint NOT NULL, "ValidTo" bigint NOT NULL,
                    PRIMARY KEY ("Id", "ChangeSeq"));
                CREATE INDEX "IX_result_history_DatasetId_ValidTo" ON result_history ("DatasetId", "ValidTo");

                CREATE FUNCTION annex_change_epoch() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
                DECLARE epoch bigint;
                BEGIN
                    PERFORM pg_advisory_xact_lock_shared(1095650904, 1);
                    SELECT "Value" INTO epoch FROM change_epoch WHERE "Id" = 1;
                    RETURN epoch;
                END $$;

                CREATE FUNCTION dataset_items_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE epoch bigint := annex_change_epoch();
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        NEW."ChangeSeq" := epoch;
                        RETURN NEW;
                    END IF;
                    IF OLD."ChangeSeq" < epoch AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = OLD."DatasetId" AND v."Seq" >= OLD."ChangeSeq") THEN
                        INSERT INTO dataset_item_history ("Id", "Uid", "DatasetId", "RefId", "Metadata", "Width", "Height", "MediaUrl", "MediaKey", "MediaContentType", "MediaLength", "CreatedAt", "UpdatedAt", "ChangeSeq", "ValidTo")
                        VALUES (OLD."Id", OLD."Uid", OLD."DatasetId", OLD."RefId", OLD."Metadata", OLD."Width", OLD."Height", OLD."MediaUrl", OLD."MediaKey", OLD."MediaContentType", OLD."MediaLength", OLD."CreatedAt", OLD."UpdatedAt", OLD."ChangeSeq", epoch) ON CONFLICT DO NOTHING;
                    END IF;
                    IF TG_OP = 'DELETE' THEN
                        -- The item's results go with it (cascade): kept here while the item is still there.
                        INSERT INTO result_history ("Id", "Uid", "DatasetItemId", "ProjectId", "Annotations", "AnnotationCount", "CreatedAt", "UpdatedAt", "ChangeSeq", "DatasetId", "ValidTo")
                        SELECT r."Id", r."Uid", r."DatasetItemId", r."ProjectId", r."Annotations", r."AnnotationCount", r."CreatedAt", r."UpdatedAt", r."ChangeSeq", OLD."DatasetId", epoch FROM results AS r
                        WHERE r."DatasetItemId" = OLD."Id" AND r."ChangeSeq" < epoch
                          AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = OLD."DatasetId" AND v."Seq" >= r."ChangeSeq")
                        ON CONFLICT DO NOTHING;
                        RETURN OLD;
                    END IF;
                    NEW."ChangeSeq" := epoch;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER dataset_items_versioned BEFORE INSERT OR UPDATE OR DELETE ON dataset_items
                FOR EACH ROW EXECUTE FUNCTION dataset_items_versioned();

                CREATE FUNCTION results_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE epoch bigint := annex_change_epoch();
                DECLARE dataset bigint;
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        NEW."ChangeSeq" := epoch;
                        RETURN NEW;
                    END IF;
                    IF OLD."ChangeSeq" < epoch THEN
                        SELECT i."DatasetId" INTO dataset FROM dataset_items AS i WHERE i."Id" = OLD."DatasetItemId";
                        IF dataset IS NOT NULL AND EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v."DatasetId" = dataset AND v."Seq" >= OLD."ChangeSeq") THEN
                            INSERT INTO result_history ("Id", "Uid", "DatasetItemId", "ProjectId", "Annotations", "AnnotationCount", "CreatedAt", "UpdatedAt", "ChangeSeq", "DatasetId", "ValidTo")
                            VALUES (OLD."Id", OLD."Uid", OLD."DatasetItemId", OLD."ProjectId", OLD."Annotations", OLD."AnnotationCount", OLD."CreatedAt", OLD."UpdatedAt", OLD."ChangeSeq", dataset, epoch) ON CONFLICT DO NOTHING;
                        END IF;
                    END IF;
                    IF TG_OP = 'DELETE' THEN
                        RETURN OLD;
                    END IF;
                    NEW."ChangeSeq" := epoch;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER results_versioned BEFORE INSERT OR UPDATE OR DELETE ON results
                FOR EACH ROW EXECUTE FUNCTION results_versioned();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP TRIGGER results_versioned ON results; DROP FUNCTION results_versioned();
                DROP TRIGGER dataset_items_versioned ON dataset_items; DROP FUNCTION dataset_items_versioned();
                DROP FUNCTION annex_change_epoch();
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
