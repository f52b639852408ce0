/*
 * schema.S - embeds db/schema.sql into libfaultlab.a as fl_db_schema_sql
 * (NUL-terminated) so the binary carries the one source of truth for the schema.
 * The path is relative to the repository root, where make runs the assembler.
 */
	.section .rodata
	.global fl_db_schema_sql
	.type fl_db_schema_sql, @object
	.balign 16
fl_db_schema_sql:
	.incbin "db/schema.sql"
	.byte 0
	.size fl_db_schema_sql, . - fl_db_schema_sql

	.section .note.GNU-stack,"",@progbits
