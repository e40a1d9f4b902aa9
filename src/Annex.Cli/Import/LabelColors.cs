namespace Annex.Cli.Import;

/// <summary>Colours for labels whose source gives none: a fixed, well-separated palette, so the same import gives the same colours.</summary>
public static class LabelColors
{
    private static readonly string[] Palette =
    [
        "#E6194B", "#3CB44B", "#FFE119", "#4363D8", "#F58231", "#911EB4", "#46F0F0", "#F032E6",
        "#BCF60C", "#FABEBE", "#008080", "#E6BEFF", "#9A6324", "#FFFAC8", "#800000", "#AAFFC3",
        "#808000", "#FFD8B1", "#000075", "#808080",
    ];

    public static string For(int index) => Palette[index % Palette.Length];
}
