using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Switchman.Cluster.Transport;

/// <summary>
/// The input of an authenticated connection: passes everything through and records the peer's last contact whenever a
/// read returns bytes. No allocation when the inner read completes synchronously; a pooled state machine otherwise.
/// </summary>
internal sealed class ContactTrackingPipeReader(PipeReader inner, PeerContact contact) : PipeReader
{
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            Note(result);
            return new ValueTask<ReadResult>(result);
        }
        return AwaitAsync(pending);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }
        Note(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> pending)
    {
        var result = await pending.ConfigureAwait(false);
        Note(result);
        return result;
    }

    private void Note(in ReadResult result)
    {
        if (!result.Buffer.IsEmpty)
        {
            contact.Touch();
        }
    }
}
