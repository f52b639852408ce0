/*
 * header-page.h - the ring buffer's header_page format text (events/header_page) of a 64-bit
 * kernel (8-byte commit, data at 16) and of a 32-bit one (4-byte commit, data at 12), for the
 * decoder's unit tests and fuzz target. The same text the kernel prints, field by field.
 */
#ifndef FL_TESTS_HEADER_PAGE_H
#define FL_TESTS_HEADER_PAGE_H

static const char hp64[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
static const char hp32[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n";

#endif
