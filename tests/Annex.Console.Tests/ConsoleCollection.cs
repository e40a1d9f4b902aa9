using Xunit;

namespace Annex.Console.Tests;

/// <summary>One server and one browser for every console test: started and seeded once, the tests run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleServer>
{
    public const string Name = "console";
}
