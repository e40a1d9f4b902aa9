using Xunit;

namespace Annex.Formats.Tests.Training;

public class SplitsAndClassesTests
{
    [Theory]
    [InlineData("""{"split":"val"}""", "val")]
    [InlineData("""{"split":"Test "}""", "test")]
    [InlineData("""{"split":"train"}""", "train")]
    [InlineData("""{"split":"validation"}""", "train")]
    [InlineData("""{"split":3}""", "train")]
    [InlineData("""{}""", "train")]
    [InlineData("", "train")]
    [InlineData("not json", "train")]
    public void The_split_comes_from_metadata_else_train(string metadata, string expected) =>
        Assert.Equal(expected, Splits.Of(metadata));

    [Fact]
    public void Classes_follow_project_then_label_order_and_keep_the_first_index_of_a_name()
    {
        LabelRecord Label(string name) => new(name, "#000000", null, null, null);
        var classes = new ClassList([[Label("car"), Label("person")], [Label("truck"), Label("car"), Label("bike")]]);
        Assert.Equal(["car", "person", "truck", "bike"], classes.Labels.Select(l => l.Name));
        Assert.True(classes.TryGetIndex("car", out var car));
        Assert.Equal(0, car);
        Assert.True(classes.TryGetIndex("bike", out var bike));
        Assert.Equal(3, bike);
        Assert.False(classes.TryGetIndex("Car", out _));
        Assert.Equal(4, classes.Count);
    }
}
