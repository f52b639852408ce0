/*
 * libFuzzer target for the event decoder: the input is raw ring-buffer data
 * as a DATA record would hold it, decoded with real format text (this
 * machine's 6.18 page_fault_user, sched_switch, sched_process_fork with
 * __data_loc strings, sys_enter_mmap). The first input byte picks the layout:
 * bit 0 = big-endian, bit 1 = 32-bit commit word (header_page to match), bit 2
 * = 8 KiB sub-buffers; the rest is the payload. A capture's zstd checksums
 * make such bytes rare in files, but a kernel bug or a crafted file can still
 * produce them, and the decoder must neither crash nor read out of bounds.
 *
 * Each input is packed into a small .flc under /dev/shm (the writer API takes
 * a path), then opened and decoded to the end. The corpus in
 * tests/fuzz/corpus/decode holds real sub-buffers from the golden cases.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/decode.h"
#include "tests/header-page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COMMON \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

static const char *const formats[][2] = {
	{ "format/exceptions/page_fault_user",
	  "name: page_fault_user\nID: 190\nformat:\n" COMMON
	  "\tfield:unsigned long address;\toffset:8;\tsize:8;\tsigned:0;\n"
	  "\tfield:unsigned long ip;\toffset:16;\tsize:8;\tsigned:0;\n"
	  "\tfield:unsigned long error_code;\toffset:24;\tsize:8;\tsigned:0;\n\n"
	  "print fmt: \"address=%ps\", (void *)REC->address\n" },
	{ "format/sched/sched_switch",
	  "name: sched_switch\nID: 372\nformat:\n" COMMON
	  "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	  "\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	  "\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	  "\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	  "\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	  "\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	  "\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"prev_pid=%d\", REC->prev_pid\n" },
	{ "format/sched/sched_process_fork",
	  "name: sched_process_fork\nID: 366\nformat:\n" COMMON
	  "\tfield:__data_loc char[] parent_comm;\toffset:8;\tsize:4;\tsigned:0;\n"
	  "\tfield:pid_t parent_pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	  "\tfield:__data_loc char[] child_comm;\toffset:16;\tsize:4;\tsigned:0;\n"
	  "\tfield:pid_t child_pid;\toffset:20;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"comm=%s\", __get_str(parent_comm)\n" },
	{ "format/syscalls/sys_enter_mmap",
	  "name: sys_enter_mmap\nID: 174\nformat:\n" COMMON
	  "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:unsigned long addr;\toffset:16;\tsize:8;\tsigned:0;\n"
	  "\tfield:unsigned long len;\toffset:24;\tsize:8;\tsigned:0;\n\n"
	  "print fmt: \"addr: 0x%08lx\", ((unsigned long)(REC->addr))\n" },
};


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct fl_kv h = { 0 };
	struct fl_flc_writer *w;
	struct fl_flc_stream *st;
	struct fl_flc_reader *r = NULL;
	struct fl_decoder *d = NULL;
	struct fl_event ev;
	struct fl_err err;
	volatile int64_t sink = 0;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	snprintf(path, sizeof(path), "/dev/shm/fuzz-decode-%d.flc", (int)getpid());
	fl_kv_addu64(&h, "flc.version", FL_FLC_VERSION);
	fl_kv_addu64(&h, "long_size", mode & 2 ? 4 : 8);
	fl_kv_addu64(&h, "big_endian", mode & 1);
	fl_kv_addu64(&h, "page_size", 4096);
	fl_kv_addu64(&h, "subbuf_size", mode & 4 ? 8192 : 4096);
	fl_kv_addu64(&h, "cpus", 1);
	fl_kv_addstr(&h, "header_page", mode & 2 ? hp32 : hp64);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		fl_kv_addstr(&h, formats[i][0], formats[i][1]);

	w = fl_flc_create(path, 1, &err);
	if (!w)
		goto out;
	fl_flc_write_kv(w, FL_FLC_HEADER, &h, &err);
	st = fl_flc_stream_new(w, 0);
	if (size)
		fl_flc_stream_write(st, data, size, &err);
	fl_flc_stream_free(st);
	if (fl_flc_close(w, &err) < 0)
		goto out;
	r = fl_flc_open(path, &err);
	if (!r)
		goto out;
	d = fl_decoder_open(r, &err);
	if (!d)
		goto out;
	while (fl_decoder_next(d, &ev, &err) == 1)
		sink += ev.a[0] + ev.a[5] + ev.comm[0] + ev.comm2[15] + ev.tid;
	(void)fl_decoder_lost(d, 0);
out:
	(void)sink;
	fl_decoder_free(d);
	fl_flc_free(r);
	unlink(path);
	fl_kv_release(&h);
	return 0;
}
