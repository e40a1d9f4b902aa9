using System.Globalization;
using System.Text;
using Annex.Server.Features.Datasets;
using Annex.Server.Features.Projects;
using Annex.Server.Features.AnnotationResults;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Demo;

/// <summary>A small, realistic demo so every example of the Avala docs works on a fresh server: the
/// docs' dataset uid, a driving-scene detection project and bounding-box results.</summary>
public sealed class DemoData(AnnexDbContext db, TimeProvider time, ILogger<DemoData> logger)
{
    public static readonly Guid DatasetUid = Guid.Parse("550e8400-e29b-41d4-a716-446655440000");
    public static readonly Guid ProjectUid = Guid.Parse("770a9600-e40d-43f6-a938-668877660000");
    public const int ItemCount = 300;

    private static readonly (string Name, string Color, double Width, double Height)[] Labels =
    [
        ("car", "#FF0000", 160, 90),
        ("pedestrian", "#00FF00", 40, 110),
        ("truck", "#0000FF", 260, 150),
        ("cyclist", "#FFAA00", 60, 100),
        ("traffic_light", "#AA00FF", 24, 60),
    ];

    /// <summary>Loads the demo into the first organization unless its dataset is already there.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (await db.Datasets.AnyAsync(d => d.Uid == DatasetUid, cancellationToken))
        {
            return;
        }

        var organization = await db.Organizations.OrderBy(o => o.Id).FirstAsync(cancellationToken);
        var now = Clock.UtcNow(time);
        var random = new Random(20250121);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var dataset = new Dataset { Uid = DatasetUid, OrganizationId = organization.Id, Name = "Highway Scenes", Slug = await Slugs.FirstFreeAsync(db.Datasets.Where(d => d.OrganizationId == organization.Id).Select(d => d.Slug), "highway-scenes", cancellationToken), ItemCount = ItemCount, CreatedAt = now };
        var taxonomy = new StringBuilder("[");
        taxonomy.AppendJoin(',', Labels.Select(l => $"{{\"name\":\"{l.Name}\",\"color\":\"{l.Color}\",\"attributes\":[{{\"name\":\"occluded\",\"type\":\"boolean\"}},{{\"name\":\"truncated\",\"type\":\"boolean\"}}]}}"));
        taxonomy.Append(']');
        var project = new Project { Uid = ProjectUid, OrganizationId = organization.Id, Name = "Object Detection", Labels = taxonomy.ToString(), CreatedAt = now };
        db.Datasets.Add(dataset);
        db.Projects.Add(project);
        await db.SaveChangesAsync(cancellationToken);

        string[] weathers = ["clear", "rain", "fog", "snow"];
        string[] times = ["day", "night", "dusk"];
        string[] splits = ["train", "train", "train", "val", "test"];
        var items = new List<DatasetItem>(ItemCount);
        for (var n = 1; n <= ItemCount; n++)
        {
            var metadata = string.Create(CultureInfo.InvariantCulture, $"{{\"weather\":\"{weathers[random.Next(weathers.Length)]}\",\"time\":\"{times[random.Next(times.Length)]}\",\"camera\":\"front\",\"split\":\"{splits[random.Next(splits.Length)]}\"}}");
            items.Add(new DatasetItem
            {
                Uid = Guid.CreateVersion7(),
                DatasetId = dataset.Id,
                RefId = string.Create(CultureInfo.InvariantCulture, $"frame_{n:D3}"),
                Metadata = metadata,
                Width = 1920,
                Height = 1080,
                MediaUrl = string.Create(CultureInfo.InvariantCulture, $"https://example.com/highway/frame_{n:D3}.jpg"),
                CreatedAt = now,
                UpdatedAt = now,
            });
        }

        db.DatasetItems.AddRange(items);
        await db.SaveChangesAsync(cancellationToken);

        foreach (var item in items)
        {
            var annotations = new StringBuilder("[");
            var count = random.Next(1, 7);
            for (var a = 0; a < count; a++)
            {
                var label = Labels[random.Next(Labels.Length)];
                var scale = 0.6 + random.NextDouble();
                var w = Math.Round(label.Width * scale);
                var h = Math.Round(label.Height * scale);
                var x = random.Next(0, 1920 - (int)w);
                var y = random.Next(300, 1080 - (int)h);
                if (a > 0)
                {
                    annotations.Append(',');
                }

                annotations.Append(CultureInfo.InvariantCulture, $"{{\"label\":\"{label.Name}\",\"type\":\"bounding_box\",\"coordinates\":{{\"x\":{x},\"y\":{y},\"width\":{w},\"height\":{h}}},\"attributes\":{{\"occluded\":{(random.Next(4) == 0 ? "true" : "false")},\"truncated\":false}}}}");
            }

            annotations.Append(']');
            db.Results.Add(new Result { Uid = Guid.CreateVersion7(), DatasetItemId = item.Id, ProjectId = project.Id, Annotations = annotations.ToString(), AnnotationCount = count, CreatedAt = now, UpdatedAt = now });
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Loaded the demo: dataset {DatasetUid} with {Items} items, project {ProjectUid}", DatasetUid, ItemCount, ProjectUid);
    }
}
