using System.Net;
using System.Text;
using DotNext.Buffers;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Switchman.Cluster.Membership;

/// <summary>
/// The node's copy of the cluster membership (the set of voters' cluster addresses), in a file of the data
/// directory. Seeded from <c>cluster.peers</c> on first start; afterwards only committed membership changes write it.
/// </summary>
internal sealed class MembershipFile(string path) : PersistentClusterConfigurationStorage<EndPoint>(path)
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> writer)
    {
        var text = Encoding.UTF8.GetBytes(ClusterAddress.Format(address));
        writer.Add(checked((byte)text.Length));
        writer.Write(text);
    }

    protected override EndPoint Decode(ref SequenceReader reader)
    {
        Span<byte> text = stackalloc byte[reader.ReadByte()];
        reader.Read(text);
        return ClusterAddress.Parse(Encoding.UTF8.GetString(text));
    }
}

/// <summary>Cluster addresses are IP:port endpoints; one textual form everywhere (files, metadata, status).</summary>
public static class ClusterAddress
{
    public static IPEndPoint Parse(string text) =>
        IPEndPoint.TryParse(text, out var endpoint) ? endpoint : throw new FormatException($"'{text}' is not an IP:port cluster address");

    public static string Format(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => ip.ToString(),
        _ => endpoint.ToString() ?? "",
    };
}
