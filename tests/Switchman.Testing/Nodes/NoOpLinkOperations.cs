using Switchman.Core.Configuration;
using Switchman.Vips;

namespace Switchman.Testing;

/// <summary>Link operations that succeed and change nothing: a node in the test process "holds" its VIPs without touching an interface.</summary>
internal sealed class NoOpLinkOperations : ILinkOperations
{
    public IReadOnlyList<string> IpCommandLine { get; } = ["true"];

    public Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task RemoveAsync(VipAddress vip, string device, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Nothing is ever on an interface.</summary>
    public Task<bool> HasAsync(VipAddress vip, string device, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task AnnounceAsync(VipAddress vip, string device, CancellationToken cancellationToken) => Task.CompletedTask;
}
