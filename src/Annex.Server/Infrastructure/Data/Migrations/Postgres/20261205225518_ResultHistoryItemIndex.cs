using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ResultHistoryItemIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Hand-written: a version's history results are read by their item's id range when an export of the
            // version reads item batches with their results (docs/versions.md).
            migrationBuilder.Sql("CREATE INDEX \"IX_result_history_DatasetItemId\" ON result_history (\"DatasetItemId\");");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX \"IX_result_history_DatasetItemId\";");
        }
    }
}
