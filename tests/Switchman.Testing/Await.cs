using Microsoft.Extensions.Time.Testing;

namespace Switchman.Testing;

/// <summary>Waiting for a condition without fixed sleeps: poll briefly, give up with a message that says what we waited for.</summary>
public static class Await
{
    /// <summary>Short enough that tests do not idle, long enough that polling does not load the machine.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="condition"/> until it is true.</summary>
    /// <exception cref="TimeoutException">The condition was still false after <paramref name="timeout"/>; the message names <paramref name="whatWeAwait"/>.</exception>
    public static async Task UntilAsync(
        Func<Task<bool>> condition, TimeSpan timeout, string whatWeAwait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            if (await condition().ConfigureAwait(false))
            {
                return;
            }
            // Checked after the condition, so it is always evaluated at least once even with a zero timeout.
            if (TimeProvider.System.GetElapsedTime(started) >= timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.###} s waiting for {whatWeAwait}.");
            }
            await Task.Delay(PollInterval, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, TimeSpan, string, CancellationToken)"/>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string whatWeAwait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(() => Task.FromResult(condition()), timeout, whatWeAwait, cancellationToken);
    }

    /// <summary>
    /// Moves <paramref name="time"/> on by <paramref name="step"/> before each poll of <paramref name="condition"/>, until it
    /// is true: a background loop arms its next timer only after the previous one fired, so fake time is given to it a
    /// step at a time, with real time in between for its continuations to run.
    /// </summary>
    /// <exception cref="TimeoutException">The condition was still false after <paramref name="timeout"/> of real time.</exception>
    public static Task AdvancingUntilAsync(FakeTimeProvider time, TimeSpan step, Func<bool> condition, TimeSpan timeout, string whatWeAwait)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(() =>
        {
            time.Advance(step);
            return condition();
        }, timeout, whatWeAwait);
    }
}
