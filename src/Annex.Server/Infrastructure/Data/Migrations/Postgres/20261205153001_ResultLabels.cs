using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ResultLabels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written: the distinct (label, type) pairs of each result's annotations, read by the filter's label and
            // type conditions on live results (docs/filter-language.md). Statement triggers keep it (one INSERT ... SELECT
            // per statement, however many rows it wrote); it goes with its result (cascade). A pair whose label or type is
            // not a string is left out: such a value never equals a filter's string, and the API stores none.
            migrationBuilder.Sql(
                """
                -- The annotations as a jsonb array, or an empty one when the text is not a JSON array (which the API never
                -- stores): such a result has no labels here rather than failing its write.
                CREATE FUNCTION annex_annotation_array(annotations text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
                DECLARE parsed jsonb;
                BEGIN
                    parsed := annotations::jsonb;
                    RETURN CASE WHEN jsonb_typeof(parsed) = 'array' THEN parsed ELSE '[]'::jsonb END;
                EXCEPTION WHEN others THEN
                    RETURN '[]'::jsonb;
                END $$;

                CREATE TABLE result_labels (
                    "ResultId" bigint NOT NULL REFERENCES results ("Id") ON DELETE CASCADE,
                    "Label" text NOT NULL, "Type" text NOT NULL,
                    PRIMARY KEY ("ResultId", "Label", "Type"));

                INSERT INTO result_labels ("ResultId", "Label", "Type")
                SELECT DISTINCT r."Id", a.value ->> 'label', a.value ->> 'type' FROM results AS r CROSS JOIN LATERAL jsonb_array_elements(annex_annotation_array(r."Annotations")) AS a(value)
                WHERE jsonb_typeof(a.value -> 'label') = 'string' AND jsonb_typeof(a.value -> 'type') = 'string';

                CREATE FUNCTION results_labels_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO result_labels ("ResultId", "Label", "Type")
                    SELECT DISTINCT n."Id", a.value ->> 'label', a.value ->> 'type' FROM new_rows AS n CROSS JOIN LATERAL jsonb_array_elements(annex_annotation_array(n."Annotations")) AS a(value)
                    WHERE jsonb_typeof(a.value -> 'label') = 'string' AND jsonb_typeof(a.value -> 'type') = 'string';
                    RETURN NULL;
                END $$;
                CREATE TRIGGER results_labels_insert AFTER INSERT ON results
                REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION results_labels_insert();

                CREATE FUNCTION results_labels_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM result_labels AS l USING old_rows AS o, new_rows AS n
                    WHERE l."ResultId" = o."Id" AND n."Id" = o."Id" AND n."Annotations" IS DISTINCT FROM o."Annotations";
                    INSERT INTO result_labels ("ResultId", "Label", "Type")
                    SELECT DISTINCT n."Id", a.value ->> 'label', a.value ->> 'type' FROM old_rows AS o INNER JOIN new_rows AS n ON n."Id" = o."Id"
                    CROSS JOIN LATERAL jsonb_array_elements(annex_annotation_array(n."Annotations")) AS a(value)
                    WHERE n."Annotations" IS DISTINCT FROM o."Annotations" AND jsonb_typeof(a.value -> 'label') = 'string' AND jsonb_typeof(a.value -> 'type') = 'string';
                    RETURN NULL;
                END $$;
                CREATE TRIGGER results_labels_update AFTER UPDATE ON results
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION results_labels_update();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP TRIGGER results_labels_update ON results; DROP FUNCTION results_labels_update();
                DROP TRIGGER results_labels_insert ON results; DROP FUNCTION results_labels_insert();
                DROP TABLE result_labels; DROP FUNCTION annex_annotation_array(text);
                """);
        }
    }
}
