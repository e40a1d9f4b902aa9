using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations
{
    /// <inheritdoc />
    public partial class ResultLabels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written: the distinct (label, type) pairs of each result's annotations, read by the filter's label and
            // type conditions on live results (docs/filter-language.md). Triggers keep it whatever writes the result; it
            // goes with its result (cascade). A pair whose label or type is not a string is left out (NOT NULL, ignored):
            // such a value never equals a filter's string, and the API stores none. Text that is not JSON (which the API
            // never stores either) gives no pairs rather than failing the write.
            migrationBuilder.Sql(
                """
                CREATE TABLE result_labels (
                    "ResultId" INTEGER NOT NULL REFERENCES results ("Id") ON DELETE CASCADE,
                    "Label" TEXT NOT NULL, "Type" TEXT NOT NULL,
                    PRIMARY KEY ("ResultId", "Label", "Type")) WITHOUT ROWID;

                INSERT OR IGNORE INTO result_labels ("ResultId", "Label", "Type")
                SELECT r."Id", json_extract(a.value, '$.label'), json_extract(a.value, '$.type') FROM results AS r, json_each(CASE WHEN json_valid(r."Annotations") THEN r."Annotations" ELSE '[]' END) AS a
                WHERE json_type(a.value, '$.label') = 'text' AND json_type(a.value, '$.type') = 'text';

                CREATE TRIGGER results_labels_insert AFTER INSERT ON results
                BEGIN
                    INSERT OR IGNORE INTO result_labels ("ResultId", "Label", "Type")
                    SELECT NEW."Id", json_extract(a.value, '$.label'), json_extract(a.value, '$.type') FROM json_each(CASE WHEN json_valid(NEW."Annotations") THEN NEW."Annotations" ELSE '[]' END) AS a
                    WHERE json_type(a.value, '$.label') = 'text' AND json_type(a.value, '$.type') = 'text';
                END;

                CREATE TRIGGER results_labels_update AFTER UPDATE OF "Annotations" ON results
                BEGIN
                    DELETE FROM result_labels WHERE "ResultId" = OLD."Id";
                    INSERT OR IGNORE INTO result_labels ("ResultId", "Label", "Type")
                    SELECT NEW."Id", json_extract(a.value, '$.label'), json_extract(a.value, '$.type') FROM json_each(CASE WHEN json_valid(NEW."Annotations") THEN NEW."Annotations" ELSE '[]' END) AS a
                    WHERE json_type(a.value, '$.label') = 'text' AND json_type(a.value, '$.type') = 'text';
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER results_labels_update; DROP TRIGGER results_labels_insert; DROP TABLE result_labels;");
        }
    }
}
