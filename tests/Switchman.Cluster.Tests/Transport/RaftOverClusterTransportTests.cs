using System.Net;
using System.Net.Sockets;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using Microsoft.Extensions.Logging;
using Switchman.Cluster.Transport;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.Cluster.Tests.Transport;

/// <summary>DotNext's Raft over <see cref="ClusterTransport"/>: three in-process nodes on loopback, with in-memory state.</summary>
public sealed class RaftOverClusterTransportTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_nodes_elect_a_leader_and_elect_another_when_the_leader_is_isolated()
    {
        using var loggerFactory = LoggerFactory.Create(logging => logging
            .AddFilter("DotNext", LogLevel.Error)
            .AddProvider(new TestOutputLoggerProvider(output)));
        var endpoints = ReserveLoopbackEndPoints(3);
        var nodes = new List<Node>();
        try
        {
            for (var i = 0; i < endpoints.Length; i++)
            {
                nodes.Add(await Node.StartAsync($"n{i + 1}", endpoints[i], endpoints, loggerFactory));
            }

            await Await.UntilAsync(() => AgreedLeader(nodes) is not null, WaitLimit, "the three nodes to agree on a leader");
            var leader = nodes.Single(n => n.Raft.LocalMemberAddress.Equals(AgreedLeader(nodes)));
            // Peers that share the secret are never refused. (Once isolation aborts handshakes half-way, peers may count those.)
            Assert.All(nodes, n => Assert.Equal(0, n.Transport.RefusedConnections));

            leader.Transport.Gate.Isolate();
            var rest = nodes.Where(n => n != leader).ToList();
            await Await.UntilAsync(
                () => AgreedLeader(rest) is { } next && !next.Equals(leader.Raft.LocalMemberAddress), WaitLimit,
                "the other two nodes to elect a new leader");

            leader.Transport.Gate.Heal();
            await Await.UntilAsync(() => AgreedLeader(nodes) is not null, WaitLimit, "the healed node to follow the leader again");
            Assert.All(rest, n => Assert.True(n.Transport.TryGetLastContact(ClusterTransport.FormatAddress(rest.Single(o => o != n).Raft.LocalMemberAddress), out _)));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>The leader every node names, if they all name the same one.</summary>
    private static EndPoint? AgreedLeader(IReadOnlyList<Node> nodes)
    {
        var leaders = nodes.Select(n => n.Raft.Leader?.EndPoint).ToList();
        return leaders[0] is { } first && leaders.All(l => first.Equals(l)) ? first : null;
    }

    /// <summary>Loopback ports free right now (bound together, then released). DotNext needs every address before it starts.</summary>
    private static IPEndPoint[] ReserveLoopbackEndPoints(int count)
    {
        var sockets = Enumerable.Range(0, count).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList();
        try
        {
            foreach (var socket in sockets)
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }
            return [.. sockets.Select(s => (IPEndPoint)s.LocalEndPoint!)];
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private sealed class Node : IAsyncDisposable
    {
        private readonly ConsensusOnlyState _state;

        private Node(ClusterTransport transport, RaftCluster raft, ConsensusOnlyState state)
        {
            Transport = transport;
            Raft = raft;
            _state = state;
        }

        public ClusterTransport Transport { get; }

        public RaftCluster Raft { get; }

        public static async Task<Node> StartAsync(string nodeId, IPEndPoint local, IPEndPoint[] members, ILoggerFactory loggerFactory)
        {
            var transport = new ClusterTransport(
                new ClusterTransportOptions(nodeId, local, TransportTestNode.Secret, TimeSpan.FromSeconds(1)), loggerFactory, TimeProvider.System);
            var config = new RaftCluster.CustomTransportConfiguration(local, transport, transport)
            {
                LowerElectionTimeout = 150,
                UpperElectionTimeout = 300,
                RequestTimeout = TimeSpan.FromSeconds(1),
                ConnectTimeout = TimeSpan.FromSeconds(1),
                ColdStart = false,
                ConfigurationStorage = null,
                LoggerFactory = loggerFactory,
            };
            // A null storage makes DotNext create an in-memory one; seed it with the members.
            var storage = config.ConfigurationStorage as InMemoryClusterConfigurationStorage<EndPoint>
                ?? throw new InvalidOperationException("DotNext did not create an in-memory membership storage.");
            var membership = storage.CreateInitialConfigurationBuilder();
            foreach (var member in members)
            {
                membership.Add(member);
            }
            membership.Build();
            var state = new ConsensusOnlyState();
            var raft = new RaftCluster(config) { AuditTrail = state };
            await raft.StartAsync();
            return new Node(transport, raft, state);
        }

        public async ValueTask DisposeAsync()
        {
            await Raft.StopAsync();
            await Raft.DisposeAsync();
            _state.Dispose();
            await Transport.DisposeAsync();
        }
    }
}
