using System.Runtime.InteropServices;

namespace Ignis.Server.Hosting;

/// <summary>
/// Gives the C heap's free pages back to the system once start-up is done. The JIT, SQLite and OpenSSL allocate with
/// malloc while the server starts (the JIT compiles a few thousand methods, on several threads, each with its own
/// glibc arena); what they free stays resident in the arenas until malloc_trim asks glibc to return it. Linux with
/// glibc only; elsewhere (or on musl, which has no malloc_trim) this does nothing.
/// </summary>
internal static class NativeHeap
{
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // not glibc: nothing to trim this way
        }
    }

    // DllImport rather than LibraryImport: blittable arguments need no marshalling code, and no unsafe code.
    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
