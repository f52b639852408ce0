/*
 * Replays a fuzz corpus without libFuzzer: runs LLVMFuzzerTestOneInput on
 * every file of the directories (or files) given, one "ok - fuzz/..." line
 * per corpus; a crash or sanitizer report fails the run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
			failed += run_file(argv[i]) != 0;
			files++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			printf("FAIL - fuzz/%s: no corpus\n", argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			failed += run_file(path) != 0;
			files++;
		}
		closedir(d);
	}
	if (failed || !files)
		printf("FAIL - fuzz/%s: %d of %d corpus files unreadable\n", argc > 1 ? argv[1] : "",
		       failed, files);
	else
		printf("ok - fuzz/%s: %d inputs\n", argc > 1 ? argv[1] : "", files);
	return failed || !files;
}
