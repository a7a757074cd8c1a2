// A default gcc build (dynamically linked PIE): argv, environment, a file of the image read
// through stdio, and a directory listing, then exit status 7.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    for (int i = 0; i < argc; ++i) printf("argv[%d]=%s\n", i, argv[i]);
    const char* value = getenv("PHX_TEST_ENV");
    printf("PHX_TEST_ENV=%s\n", value ? value : "(unset)");
    FILE* hosts = fopen("/etc/hosts", "r");
    char line[128] = "";
    if (!hosts || !fgets(line, sizeof line, hosts)) {
        perror("/etc/hosts");
        return 1;
    }
    fclose(hosts);
    line[strcspn(line, "\n")] = 0;
    printf("hosts: %s\n", line);
    DIR* etc = opendir("/etc");
    int entries = 0;
    for (struct dirent* e; etc && (e = readdir(etc));) entries += strcmp(e->d_name, "passwd") == 0;
    if (etc) closedir(etc);
    printf("passwd listed: %d\n", entries);
    return 7;
}
