/*
 * libFuzzer target for the capture file reader: open the bytes as a capture,
 * walk the records, load every payload and parse the metadata. Anything the
 * reader accepts must also be safe to decode further, so the loaded payloads
 * are touched in full. Built by `make fuzz` (clang, ASan, UBSan); the
 * checked-in corpus is replayed by `make test` through replay-main.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "capture/flc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fl_flc_reader *r;
	struct fl_buf b = { 0 };
	struct fl_err err;
	volatile uint8_t sink = 0;

	r = fl_flc_open_mem(data, size, &err);
	if (!r)
		return 0;
	for (size_t i = 0; i < fl_flc_nrecs(r); i++) {
		if (fl_flc_load(r, i, &b, &err))
			continue;
		for (size_t k = 0; k < b.len; k += 512)
			sink ^= (uint8_t)b.data[k];
	}
	for (size_t i = 0; i < fl_flc_nwarnings(r); i++)
		sink ^= (uint8_t)fl_flc_warning(r, i)[0];
	(void)fl_flc_content_hash(r);
	(void)sink;
	fl_buf_release(&b);
	fl_flc_free(r);
	return 0;
}
