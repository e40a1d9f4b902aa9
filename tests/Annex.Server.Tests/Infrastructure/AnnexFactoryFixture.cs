namespace Annex.Server.Tests.Infrastructure;

/// <summary>One server shared by the tests of a class; each test makes its own organization.</summary>
public sealed class AnnexFactoryFixture : IDisposable
{
    public AnnexFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}
