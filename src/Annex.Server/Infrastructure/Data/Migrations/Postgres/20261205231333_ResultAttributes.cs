using System.Globalization;
using System.Numerics;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ResultAttributes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written: read by the filter's attributes.<key> conditions on live results (docs/filter-language.md), as
            // result_labels is by label and type conditions. Statement triggers keep it (one INSERT ... SELECT per
            // statement); it goes with its result (cascade). Type is 'string', 'number', 'true', 'false', 'null', 'object'
            // or 'array'; Text is a string's text ('' otherwise), Number a number's value (0 otherwise). No key over Text:
            // a long string would not fit a b-tree entry; the index finds a result's rows at a path, and the rows of a
            // result are distinct because every write inserts them with DISTINCT.
            var overflow = (BigInteger.Pow(2, 1024) - BigInteger.Pow(2, 970)).ToString(CultureInfo.InvariantCulture);
            var underflow = "0." + BigInteger.Pow(5, 1075).ToString(CultureInfo.InvariantCulture).PadLeft(1075, '0');
            migrationBuilder.Sql(
                $$"""
                -- The double nearest to a JSON number, as the filter reads stored numbers: infinity from 2^1024 - 2^970 on,
                -- 0 up to 2^-1075, rounded otherwise (a cast to double precision fails on the first two).
                CREATE FUNCTION annex_json_double(n numeric) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
                    SELECT CASE WHEN n >= {{overflow}} THEN 'Infinity'::double precision
                        WHEN n <= -{{overflow}} THEN '-Infinity'::double precision
                        WHEN abs(n) <= {{underflow}} THEN 0::double precision ELSE n::double precision END
                $$;

                -- The distinct attribute values of one result's annotations: a walk of each annotation's attributes object
                -- through object members only (an array is a value and never entered, as a filter's key never indexes one),
                -- each value with its dotted path. A key holding a dot cannot be named by a filter and is left out with
                -- everything under it, so a dotted path stands for one sequence of keys; so are paths longer than 500
                -- characters, for which the filter reads the annotations.
                CREATE FUNCTION annex_attribute_rows(annotations text)
                RETURNS TABLE ("Path" text, "Type" text, "Text" text, "Number" double precision) LANGUAGE sql IMMUTABLE AS $$
                    WITH RECURSIVE node(path, value) AS (
                        SELECT m.key, m.value FROM jsonb_array_elements(annex_annotation_array(annotations)) AS a(value)
                        CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(a.value -> 'attributes') = 'object' THEN a.value -> 'attributes' ELSE '{}'::jsonb END) AS m
                        WHERE strpos(m.key, '.') = 0 AND length(m.key) <= 500
                        UNION ALL
                        SELECT node.path || '.' || m.key, m.value FROM node
                        CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(node.value) = 'object' THEN node.value ELSE '{}'::jsonb END) AS m
                        WHERE strpos(m.key, '.') = 0 AND length(node.path) + 1 + length(m.key) <= 500)
                    SELECT DISTINCT node.path,
                        CASE jsonb_typeof(node.value) WHEN 'boolean' THEN node.value #>> '{}' ELSE jsonb_typeof(node.value) END,
                        CASE WHEN jsonb_typeof(node.value) = 'string' THEN node.value #>> '{}' ELSE '' END,
                        CASE WHEN jsonb_typeof(node.value) = 'number' THEN annex_json_double((node.value #>> '{}')::numeric) ELSE 0 END
                    FROM node
                $$;

                CREATE TABLE result_attributes (
                    "ResultId" bigint NOT NULL REFERENCES results ("Id") ON DELETE CASCADE,
                    "Path" text NOT NULL, "Type" text NOT NULL, "Text" text NOT NULL, "Number" double precision NOT NULL);

                INSERT INTO result_attributes ("ResultId", "Path", "Type", "Text", "Number")
                SELECT r."Id", x.* FROM results AS r CROSS JOIN LATERAL annex_attribute_rows(r."Annotations") AS x;

                CREATE INDEX "IX_result_attributes_ResultId_Path" ON result_attributes ("ResultId", "Path", "Type", "Number");

                CREATE FUNCTION results_attributes_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO result_attributes ("ResultId", "Path", "Type", "Text", "Number")
                    SELECT n."Id", x.* FROM new_rows AS n CROSS JOIN LATERAL annex_attribute_rows(n."Annotations") AS x;
                    RETURN NULL;
                END $$;
                CREATE TRIGGER results_attributes_insert AFTER INSERT ON results
                REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION results_attributes_insert();

                CREATE FUNCTION results_attributes_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM result_attributes AS t USING old_rows AS o, new_rows AS n
                    WHERE t."ResultId" = o."Id" AND n."Id" = o."Id" AND n."Annotations" IS DISTINCT FROM o."Annotations";
                    INSERT INTO result_attributes ("ResultId", "Path", "Type", "Text", "Number")
                    SELECT n."Id", x.* FROM old_rows AS o INNER JOIN new_rows AS n ON n."Id" = o."Id"
                    CROSS JOIN LATERAL annex_attribute_rows(n."Annotations") AS x
                    WHERE n."Annotations" IS DISTINCT FROM o."Annotations";
                    RETURN NULL;
                END $$;
                CREATE TRIGGER results_attributes_update AFTER UPDATE ON results
                REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION results_attributes_update();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                DROP TRIGGER results_attributes_update ON results; DROP FUNCTION results_attributes_update();
                DROP TRIGGER results_attributes_insert ON results; DROP FUNCTION results_attributes_insert();
                DROP TABLE result_attributes; DROP FUNCTION annex_attribute_rows(text); DROP FUNCTION annex_json_double(numeric);
                """);
        }
    }
}
