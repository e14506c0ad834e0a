namespace Switchman.NetnsTests;

/// <summary>Every test class that builds a <see cref="Switchman.Testing.Netns.NetworkLab"/>: one at a time, never beside another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkLabCollection
{
    public const string Name = "network lab";
}
