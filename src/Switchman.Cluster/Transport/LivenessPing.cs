using System.Buffers.Binary;

namespace Switchman.Cluster.Transport;

/// <summary>
/// The bytes of a liveness ping and of its answer, both <see cref="Length"/> long: a sequence number (the answer echoes
/// it) and a value: in a ping the sender's report (the state index its VIP keeper has caught up with), in an answer the
/// term of the lease the answering leader grants (0: none). See <see cref="Leases.HolderLeases"/>.
/// </summary>
internal static class LivenessPing
{
    public const int Length = 16;

    public static void Write(Span<byte> buffer, long sequence, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(buffer, sequence);
        BinaryPrimitives.WriteInt64BigEndian(buffer[8..], value);
    }

    public static (long Sequence, long Value) Read(ReadOnlySpan<byte> buffer) =>
        (BinaryPrimitives.ReadInt64BigEndian(buffer), BinaryPrimitives.ReadInt64BigEndian(buffer[8..]));
}
