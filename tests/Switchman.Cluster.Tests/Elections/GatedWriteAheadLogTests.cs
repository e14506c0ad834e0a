using System.Net;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging.Abstractions;
using Switchman.Cluster.Elections;
using Switchman.Cluster.Replication;
using Switchman.Testing;

namespace Switchman.Cluster.Tests.Elections;

/// <summary>
/// The vote gate on DotNext's log: what DotNext asks before it grants a vote (<see cref="IPersistentState.IsVotedFor"/>)
/// is answered by the log's own record unless the vote is withheld.
/// </summary>
public sealed class GatedWriteAheadLogTests : IAsyncLifetime
{
    private static readonly ClusterMemberId Lb1 = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 7001));
    private static readonly ClusterMemberId Lb2 = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 7002));
    private readonly TempDirectory _directory = new();
    private readonly List<ConfigStateMachine> _stateMachines = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var stateMachine in _stateMachines)
        {
            await stateMachine.DisposeAsync();
        }
        _directory.Dispose();
    }

    [Fact]
    public async Task IsVotedFor_Withheld_NoOneAndReleased_TheLogsOwnRecord()
    {
        await using (var log = Open())
        {
            IPersistentState state = log;
            Assert.True(state.IsVotedFor(Lb1), "no vote recorded yet: the log would vote for anyone");

            log.WithholdVote();
            Assert.True(log.VoteWithheld);
            Assert.False(state.IsVotedFor(Lb1));
            Assert.False(state.IsVotedFor(Lb2));

            log.ReleaseVote();
            await log.RecordVoteAsync(Lb1, CancellationToken.None);
            Assert.True(state.IsVotedFor(Lb1));
            Assert.False(state.IsVotedFor(Lb2));
        }

        // The recorded vote is the log's own, on disk: a restart remembers it.
        await using var reopened = Open();
        Assert.False(((IPersistentState)reopened).IsVotedFor(Lb2));
        Assert.True(((IPersistentState)reopened).IsVotedFor(Lb1));
    }

    private GatedWriteAheadLog Open()
    {
        var stateMachine = new ConfigStateMachine(new DirectoryInfo(_directory.Combine("snapshots")), 100, NullLogger.Instance);
        _stateMachines.Add(stateMachine);
        return new GatedWriteAheadLog(new WriteAheadLog.Options { Location = _directory.Combine("wal") }, stateMachine);
    }
}
