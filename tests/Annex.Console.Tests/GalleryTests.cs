using System.Text.Json;
using Microsoft.Playwright;
using Xunit;
using static Annex.Console.Tests.ConsoleTests;

namespace Annex.Console.Tests;

/// <summary>The dataset gallery and item page in headless chromium: overlays at the annotation's pixels, in the
/// label's colours, and labels and metadata written to break out of HTML shown as text.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class GalleryTests(ConsoleServer server)
{
    [Fact]
    public async Task The_gallery_draws_each_annotation_at_its_pixels_and_hostile_text_stays_text()
    {
        var page = await server.NewPageAsync();
        var dialogs = WatchDialogs(page);
        await SignInAsync(page, server.AdminKey);

        await page.GetByRole(AriaRole.Link, new() { Name = "Datasets" }).ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Datasets");
        await ConsoleServer.ScreenshotAsync(page, "datasets");
        await page.GetByRole(AriaRole.Link, new() { Name = "Street cameras" }).ClickAsync();
        await Assertions.Expect(page.Locator(".gallery .tile")).ToHaveCountAsync(6);
        var tile = page.Locator($".tile[data-uid='{server.ItemUids[0]}']");
        var image = tile.Locator("img");
        await Assertions.Expect(image).ToHaveJSPropertyAsync("complete", true);
        var natural = await image.EvaluateAsync<JsonElement>("i => [i.naturalWidth, i.naturalHeight]");
        Assert.True(natural[0].GetInt32() > 0, "the thumbnail did not load");
        // A thumbnail, not the full image, and with the item's aspect ratio: the overlay's frame is the image's.
        Assert.True(natural[0].GetInt32() < ConsoleServer.ImageWidth);
        Assert.Equal((double)ConsoleServer.ImageWidth / ConsoleServer.ImageHeight, natural[0].GetDouble() / natural[1].GetDouble(), 2);

        // Where the car box must appear: the image is fitted (contain) in its frame, the box scaled with it.
        var frame = await image.BoundingBoxAsync();
        var box = await tile.Locator("svg.overlay rect[data-label='car']").BoundingBoxAsync();
        Assert.NotNull(frame);
        Assert.NotNull(box);
        var scale = Math.Min(frame!.Width / ConsoleServer.ImageWidth, frame.Height / ConsoleServer.ImageHeight);
        var left = frame.X + ((frame.Width - (ConsoleServer.ImageWidth * scale)) / 2);
        var top = frame.Y + ((frame.Height - (ConsoleServer.ImageHeight * scale)) / 2);
        var (x, y, w, h) = ConsoleServer.CarBox;
        // The stroke (2 px, not scaled) widens the box by up to one pixel on each side.
        Assert.InRange(box!.X, left + (x * scale) - 1.5, left + (x * scale) + 1.5);
        Assert.InRange(box.Y, top + (y * scale) - 1.5, top + (y * scale) + 1.5);
        Assert.InRange(box.Width, (w * scale) - 1, (w * scale) + 3);
        Assert.InRange(box.Height, (h * scale) - 1, (h * scale) + 3);
        // In the label's colour, as are the other shapes: a polygon, a polyline, a rotated box, a skeleton.
        Assert.Equal("#e03131", (await tile.Locator("svg.overlay rect[data-label='car']").GetAttributeAsync("stroke"))?.ToLowerInvariant());
        Assert.Equal(1, await tile.Locator("svg.overlay polygon[data-label='car']").CountAsync());
        Assert.Equal(1, await tile.Locator("svg.overlay polyline[data-label='lane']").CountAsync());
        Assert.Contains("rotate(", await tile.Locator("svg.overlay rect[data-label='sign']").GetAttributeAsync("transform") ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(5, await tile.Locator("svg.overlay circle[data-label='pedestrian']").CountAsync());
        Assert.Equal(4, await tile.Locator("svg.overlay line[data-label='pedestrian']").CountAsync());
        await ConsoleServer.ScreenshotAsync(page, "gallery");

        // The filter narrows the gallery.
        await page.GetByLabel("Filter", new() { Exact = true }).FillAsync("metadata.time = \"day\"");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.Locator(".gallery .tile")).ToHaveCountAsync(3);
        await page.GetByLabel("Filter", new() { Exact = true }).FillAsync(string.Empty);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.Locator(".gallery .tile")).ToHaveCountAsync(6);

        // The item page: a label and metadata written to break out of HTML show as the characters they are.
        await page.Locator($".tile[data-uid='{server.ItemUids[0]}'] a").ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("cam01.png");
        await Assertions.Expect(page.Locator("ul.annotations")).ToContainTextAsync(ConsoleServer.ScriptLabel);
        await Assertions.Expect(page.Locator("table.metadata")).ToContainTextAsync(ConsoleServer.AttributeBreakout);
        await Assertions.Expect(page.Locator("ul.annotations dl.attributes")).ToContainTextAsync(ConsoleServer.AttributeBreakout);
        Assert.Equal(0, await page.Locator("img[src='x']").CountAsync());
        Assert.Equal(0, await page.Locator("main script").CountAsync());
        var large = page.Locator("figure.annotated.large img");
        await Assertions.Expect(large).ToHaveJSPropertyAsync("complete", true);
        Assert.True(await large.EvaluateAsync<int>("i => i.naturalWidth") > 0);
        await ConsoleServer.ScreenshotAsync(page, "item");

        // The project's taxonomy, with the hostile label as text too and the pedestrian's skeleton drawn.
        await page.GetByRole(AriaRole.Link, new() { Name = "Projects" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Street scenes" }).ClickAsync();
        await Assertions.Expect(page.Locator("ul.taxonomy")).ToContainTextAsync(ConsoleServer.ScriptLabel);
        Assert.Equal(4, await page.Locator("svg.skeleton line").CountAsync());
        await ConsoleServer.ScreenshotAsync(page, "project");
        Assert.Empty(dialogs);
    }
}
