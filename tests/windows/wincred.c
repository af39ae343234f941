/* What Windows' Credential Manager holds, read through its own API
 * (advapi32's CredEnumerateW and CredReadW), for the end-to-end tests of
 * presently.exe under Wine:
 *
 *   wincred list             one line per generic credential:
 *                            TARGET<TAB>USER<TAB>BLOB BYTES<TAB>PERSIST
 *   wincred read TARGET      the credential's blob as text (UTF-16 in the
 *                            store), on stdout; exit 1 when there is none
 *   wincred write TARGET USER TEXT
 *                            stores TEXT as keyring-rs does (a generic
 *                            credential, UTF-16, persisted for the user)
 *
 * Output is UTF-8. */
#include <windows.h>
#include <wincred.h>
#include <stdio.h>
#include <fcntl.h>
#include <io.h>

static void put(const WCHAR *text, int units)
{
    int bytes;
    char *out;
    if (!text || units == 0)
        return;
    bytes = WideCharToMultiByte(CP_UTF8, 0, text, units, NULL, 0, NULL, NULL);
    out = HeapAlloc(GetProcessHeap(), 0, bytes);
    WideCharToMultiByte(CP_UTF8, 0, text, units, out, bytes, NULL, NULL);
    fwrite(out, 1, bytes, stdout);
    HeapFree(GetProcessHeap(), 0, out);
}

int wmain(int argc, WCHAR **argv)
{
    /* No \r before each \n. */
    _setmode(_fileno(stdout), _O_BINARY);
    if (argc == 2 && !lstrcmpW(argv[1], L"list")) {
        DWORD count = 0, i;
        PCREDENTIALW *creds = NULL;
        if (!CredEnumerateW(NULL, 0, &count, &creds)) {
            if (GetLastError() == ERROR_NOT_FOUND)
                return 0;
            fprintf(stderr, "CredEnumerateW failed: %lu\n", GetLastError());
            return 2;
        }
        for (i = 0; i < count; i++) {
            if (creds[i]->Type != CRED_TYPE_GENERIC)
                continue;
            put(creds[i]->TargetName, lstrlenW(creds[i]->TargetName));
            fputc('\t', stdout);
            if (creds[i]->UserName)
                put(creds[i]->UserName, lstrlenW(creds[i]->UserName));
            printf("\t%lu\t%lu\n", creds[i]->CredentialBlobSize, creds[i]->Persist);
        }
        CredFree(creds);
        return 0;
    }
    if (argc == 3 && !lstrcmpW(argv[1], L"read")) {
        PCREDENTIALW cred = NULL;
        if (!CredReadW(argv[2], CRED_TYPE_GENERIC, 0, &cred))
            return GetLastError() == ERROR_NOT_FOUND ? 1 : 2;
        put((const WCHAR *)cred->CredentialBlob, cred->CredentialBlobSize / 2);
        CredFree(cred);
        return 0;
    }
    if (argc == 5 && !lstrcmpW(argv[1], L"write")) {
        CREDENTIALW cred = {0};
        cred.Type = CRED_TYPE_GENERIC;
        cred.TargetName = argv[2];
        cred.UserName = argv[3];
        cred.CredentialBlob = (BYTE *)argv[4];
        cred.CredentialBlobSize = lstrlenW(argv[4]) * sizeof(WCHAR);
        cred.Persist = CRED_PERSIST_ENTERPRISE;
        if (!CredWriteW(&cred, 0)) {
            fprintf(stderr, "CredWriteW failed: %lu\n", GetLastError());
            return 2;
        }
        return 0;
    }
    fprintf(stderr, "usage: wincred list | read TARGET | write TARGET USER TEXT\n");
    return 2;
}
