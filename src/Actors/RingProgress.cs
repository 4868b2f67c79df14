namespace RingActors.Actors;

/// <summary>How far a ring job is: blocks merged or skipped out of P², devices finished out of P.</summary>
public sealed record RingProgress(string JobId, int BlocksDone, int BlocksTotal, int DevicesDone, int Devices, TimeSpan Elapsed)
{
    public double Fraction => BlocksTotal == 0 ? 1 : (double)BlocksDone / BlocksTotal;
}
