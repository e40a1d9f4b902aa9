using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations
{
    /// <inheritdoc />
    public partial class ResultAttributes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written: read by the filter's attributes.<key> conditions on live results (docs/filter-language.md), as
            // result_labels is by label and type conditions. Triggers keep it whatever writes the result; it goes with its
            // result (cascade). Type is 'string', 'number', 'true', 'false', 'null', 'object' or 'array'; Text is a
            // string's text ('' otherwise), Number a number's value (0 otherwise).
            migrationBuilder.Sql(
                $"""
                CREATE TABLE result_attributes (
                    "ResultId" INTEGER NOT NULL REFERENCES results ("Id") ON DELETE CASCADE,
                    "Path" TEXT NOT NULL, "Type" TEXT NOT NULL, "Text" TEXT NOT NULL, "Number" REAL NOT NULL,
                    PRIMARY KEY ("ResultId", "Path", "Type", "Text", "Number")) WITHOUT ROWID;

                INSERT OR IGNORE INTO result_attributes ("ResultId", "Path", "Type", "Text", "Number")
                {Rows("r.\"Id\"", "r.\"Annotations\"", "results AS r, ")};

                CREATE TRIGGER results_attributes_insert AFTER INSERT ON results
                BEGIN
                    INSERT OR IGNORE INTO result_attributes ("ResultId", "Path", "Type", "Text", "Number")
                    {Rows("NEW.\"Id\"", "NEW.\"Annotations\"", string.Empty)};
                END;

                CREATE TRIGGER results_attributes_update AFTER UPDATE OF "Annotations" ON results
                BEGIN
                    DELETE FROM result_attributes WHERE "ResultId" = OLD."Id";
                    INSERT OR IGNORE INTO result_attributes ("ResultId", "Path", "Type", "Text", "Number")
                    {Rows("NEW.\"Id\"", "NEW.\"Annotations\"", string.Empty)};
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER results_attributes_update; DROP TRIGGER results_attributes_insert; DROP TABLE result_attributes;");
        }

        /// <summary>The attribute values of results' annotations (<paramref name="from"/> names the results, empty for the
        /// one row a trigger runs for): a walk of each annotation's <c>attributes</c> object through object members only
        /// (an array is a value and never entered, as a filter's key never indexes one), each value with its dotted path,
        /// its JSON type and, for a string, its text or, for a number, the double nearest to it (<c>+ 0.0</c>, as the
        /// filter's JSON conditions read numbers). A key holding a dot cannot be named by a filter and is left out with
        /// everything under it, so a dotted path stands for one sequence of keys; so are paths longer than 500 characters,
        /// for which the filter reads the annotations. Text that is not a JSON array (which the API never stores) gives no
        /// rows rather than failing the write; a number SQLite cannot hold as a double (a JSON5 NaN) is typed 'nan'. Of a key
        /// written twice in one object the last value counts, as in PostgreSQL's jsonb and the in-memory evaluator.</summary>
        private static string Rows(string id, string annotations, string from) =>
            $$"""
            WITH RECURSIVE node("ResultId", "Path", "Value", "Type") AS (
                    SELECT {{id}}, e.key, e.value, e.type FROM {{from}}json_each(CASE WHEN json_valid({{annotations}}) AND json_type({{annotations}}) = 'array' THEN {{annotations}} ELSE '[]' END) AS a,
                        json_each(CASE WHEN a.type = 'object' AND json_type(a.value, '$.attributes') = 'object' THEN a.value ELSE '{"attributes":{} }' END, '$.attributes') AS e
                    WHERE instr(e.key, '.') = 0 AND length(e.key) <= 500
                        AND NOT EXISTS (SELECT 1 FROM json_each(a.value, '$.attributes') AS later WHERE later.key = e.key AND later.id > e.id)
                    UNION ALL
                    SELECT node."ResultId", node."Path" || '.' || e.key, e.value, e.type FROM node, json_each(CASE WHEN node."Type" = 'object' THEN node."Value" ELSE '{}' END) AS e
                    WHERE instr(e.key, '.') = 0 AND length(node."Path") + 1 + length(e.key) <= 500
                        AND NOT EXISTS (SELECT 1 FROM json_each(node."Value") AS later WHERE later.key = e.key AND later.id > e.id))
                SELECT "ResultId", "Path",
                    CASE "Type" WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' WHEN 'real' THEN CASE WHEN "Value" + 0.0 IS NULL THEN 'nan' ELSE 'number' END ELSE "Type" END,
                    CASE WHEN "Type" = 'text' THEN "Value" ELSE '' END,
                    CASE WHEN "Type" IN ('integer', 'real') THEN COALESCE("Value" + 0.0, 0.0) ELSE 0.0 END
                FROM node
            """;
    }
}
