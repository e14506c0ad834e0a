using System.Globalization;
using System.Runtime.InteropServices;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// An instant on the clock a <see cref="DeadlineGuard"/> keeps time by: the kernel's CLOCK_BOOTTIME, which the guard's
/// shell reads as <c>/proc/uptime</c> without starting a program. Not the node's logic time (that is the injected
/// <see cref="TimeProvider"/>): the one clock this process and its guard both read, so that a deadline written by one
/// means the same instant to the other. It runs at the monotonic clock's rate and also while the machine is suspended,
/// so a deadline on it can only come early, never late.
/// </summary>
public readonly record struct GuardInstant(long Microseconds) : IComparable<GuardInstant>
{
    /// <summary>Now, read from the kernel.</summary>
    public static GuardInstant Now()
    {
        if (NativeMethods.ClockGetTime(NativeMethods.ClockBootTime, out var time) != 0)
        {
            // Linux has had CLOCK_BOOTTIME since 2.6.39; a failure here is a broken system, not a condition to live with.
            throw new InvalidOperationException($"clock_gettime(CLOCK_BOOTTIME) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        return new GuardInstant(time.Seconds * 1_000_000 + time.Nanoseconds / 1_000);
    }

    /// <summary>This instant plus <paramref name="span"/> (rounded down to the microsecond).</summary>
    public GuardInstant Add(TimeSpan span) => new(Microseconds + span.Ticks / TimeSpan.TicksPerMicrosecond);

    /// <summary>How long after <paramref name="earlier"/> this instant is.</summary>
    public TimeSpan Since(GuardInstant earlier) => TimeSpan.FromMicroseconds(Microseconds - earlier.Microseconds);

    public int CompareTo(GuardInstant other) => Microseconds.CompareTo(other.Microseconds);

    public static bool operator <(GuardInstant left, GuardInstant right) => left.CompareTo(right) < 0;

    public static bool operator >(GuardInstant left, GuardInstant right) => left.CompareTo(right) > 0;

    public static bool operator <=(GuardInstant left, GuardInstant right) => left.CompareTo(right) <= 0;

    public static bool operator >=(GuardInstant left, GuardInstant right) => left.CompareTo(right) >= 0;

    public override string ToString() => (Microseconds / 1e6).ToString("0.000000", CultureInfo.InvariantCulture) + " s after boot";
}
