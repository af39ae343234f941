/* Presses Ctrl-C in a console program's console, as a person at a terminal
 * does, for the end-to-end tests of presently.exe under Wine:
 *
 *   ctrl-c PROGRAM [ARGS...]
 *
 * PROGRAM runs in this program's console (one is made when there is none),
 * with this program's standard output and error and NUL as its input. When a
 * line arrives on this program's standard input, a CTRL_C_EVENT goes to every
 * program in the console (GenerateConsoleCtrlEvent), which this one ignores.
 * Exits with PROGRAM's exit code. */
#include <windows.h>
#include <stdio.h>

static HANDLE input;

/* One argument as the C runtime reads it back (CommandLineToArgvW's rules). */
static void quote(WCHAR *out, const WCHAR *arg)
{
    int backslashes = 0;
    *out++ = L'"';
    for (; *arg; arg++) {
        if (*arg == L'\\') {
            backslashes++;
        } else if (*arg == L'"') {
            while (backslashes-- >= 0)
                *out++ = L'\\';
            backslashes = 0;
        } else {
            backslashes = 0;
        }
        *out++ = *arg;
    }
    while (backslashes-- > 0)
        *out++ = L'\\';
    *out++ = L'"';
    *out = 0;
}

static DWORD WINAPI press_on_a_line(void *unused)
{
    char c;
    DWORD got;
    (void)unused;
    while (ReadFile(input, &c, 1, &got, NULL) && got == 1) {
        if (c == '\n') {
            if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0))
                fprintf(stderr, "ctrl-c: GenerateConsoleCtrlEvent failed: %lu\n", GetLastError());
        }
    }
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE), err = GetStdHandle(STD_ERROR_HANDLE);
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    STARTUPINFOW si = {sizeof si};
    PROCESS_INFORMATION pi;
    WCHAR *line;
    size_t size = 1;
    DWORD code;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: ctrl-c PROGRAM [ARGS...]\n");
        return 2;
    }
    input = GetStdHandle(STD_INPUT_HANDLE);
    /* A console of our own to send the event in (a program Wine starts from
     * a pipe has only a stand-in, where the event fails); AllocConsole
     * replaces the standard handles, which stay the pipes they were. */
    FreeConsole();
    if (AllocConsole()) {
        SetStdHandle(STD_INPUT_HANDLE, input);
        SetStdHandle(STD_OUTPUT_HANDLE, out);
        SetStdHandle(STD_ERROR_HANDLE, err);
    }

    for (i = 1; i < argc; i++)
        size += 2 * lstrlenW(argv[i]) + 3;
    line = HeapAlloc(GetProcessHeap(), 0, size * sizeof(WCHAR));
    line[0] = 0;
    for (i = 1; i < argc; i++) {
        if (i > 1)
            lstrcatW(line, L" ");
        quote(line + lstrlenW(line), argv[i]);
    }

    SetHandleInformation(out, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(err, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ, &inherit, OPEN_EXISTING, 0, NULL);
    si.hStdOutput = out;
    si.hStdError = err;
    if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        fprintf(stderr, "ctrl-c: could not start the program: %lu\n", GetLastError());
        return 2;
    }
    /* Only now: a child inherits the choice to ignore Ctrl-C. */
    SetConsoleCtrlHandler(NULL, TRUE);
    CloseHandle(CreateThread(NULL, 0, press_on_a_line, NULL, 0, NULL));
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    return (int)code;
}
