/* bcryptprimitives.dll for Wine 8, which lacks it: Rust's standard library
 * on Windows takes its random bytes from ProcessPrng (Windows 10 and later),
 * and every Rust program stops at load without it. Built by tests/windows/run
 * and put in the Wine prefix's system32; never shipped. Newer Wine has the
 * real one. */
#include <windows.h>

/* advapi32's RtlGenRandom. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
