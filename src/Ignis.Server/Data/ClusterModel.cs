using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Data;

/// <summary>
/// A key of the authorization server kept in the database (PostgreSQL: every node reads the same keys; SQLite keeps
/// them in files under the key directory). Table AuthSigningKeys.
/// </summary>
public sealed class StoredKey
{
    public const string Rsa = "rsa";
    public const string EcP256 = "ec-p256";
    public const string Aes256 = "aes256";

    /// <summary>The key id (RFC 7638 thumbprint for public keys; the kind for the AES key).</summary>
    public string Id { get; set; } = "";

    /// <summary><see cref="Rsa"/>, <see cref="EcP256"/> or <see cref="Aes256"/>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>PKCS#8 PEM for the asymmetric keys, base64 for the AES key.</summary>
    public string Material { get; set; } = "";

    public DateTime CreatedAt { get; set; }

    /// <summary>When the key starts signing; until then it is only published (a rotation announces the next key first).</summary>
    public DateTime ActivatesAt { get; set; }
}

/// <summary>A fixed-window request counter shared by every node (the password grant's rate limit). Table AuthRateCounters.</summary>
public sealed class RateCounter
{
    /// <summary>base64url SHA-256 of what is limited (client and address): fixed length whatever the client sends.</summary>
    public string Key { get; set; } = "";

    /// <summary>Start of the current window, unix seconds.</summary>
    public long WindowStart { get; set; }

    public int Count { get; set; }
}

/// <summary>The tables that make several nodes act as one.</summary>
public static class ClusterModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<StoredKey>(e =>
        {
            e.ToTable("AuthSigningKeys");
            e.HasKey(k => k.Id);
            e.Property(k => k.Id).HasMaxLength(64);
            e.Property(k => k.Kind).HasMaxLength(16);
            e.HasIndex(k => new { k.Kind, k.ActivatesAt });
        });
        builder.Entity<RateCounter>(e =>
        {
            e.ToTable("AuthRateCounters");
            e.HasKey(c => c.Key);
            e.Property(c => c.Key).HasMaxLength(64);
            e.HasIndex(c => c.WindowStart);
        });
    }
}
