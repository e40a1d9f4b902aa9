using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Annex.Server.Infrastructure.Data.Migrations.Postgres
{
    /// <summary>Archives published before <c>ArchiveRetention</c> have no expiry, so the sweeper never deletes them: they
    /// get the default retention (7 days) from when their export last changed, which for an exported export is when
    /// its archive was published.</summary>
    public partial class BackfillArchiveExpiry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                UPDATE exports SET "ExpiresAt" = "UpdatedAt" + interval '7 days'
                WHERE "ArchiveKey" IS NOT NULL AND "ExpiresAt" IS NULL;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The expiries stay: which of them were filled in here is not recorded, and none is wrong.
        }
    }
}
