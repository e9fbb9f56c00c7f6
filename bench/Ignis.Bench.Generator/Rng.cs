namespace Ignis.Bench.Generator;

/// <summary>
/// SplitMix64: a tiny PRNG whose sequence is fixed by its seed on every runtime, so a seed and a
/// patient number always give the same record (System.Random's seeded sequence is not a contract).
/// </summary>
internal struct Rng(ulong seed)
{
    private ulong _state = seed;

    public static Rng For(ulong seed, long stream) => new(seed * 0x9E3779B97F4A7C15UL ^ (ulong)stream * 0xD1B54A32D192ED03UL);

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Int(int n) => (int)(Next() % (ulong)n);

    /// <summary>Uniform in [lo, hi].</summary>
    public int Int(int lo, int hi) => lo + Int(hi - lo + 1);

    public double Double() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Normal(mean, sd) by Box-Muller.</summary>
    public double Normal(double mean, double sd)
    {
        var u1 = 1.0 - Double();
        var u2 = Double();
        return mean + sd * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Int(items.Count)];
}
