/*
 * Unit tests of the event queue, the seeded PRNG, the CPU pool and the I/O
 * device (engine/evq.c, engine/cpu.c), plus a throughput floor for the whole
 * lock path.
 */
#include "tests/unit/test.h"

#include <stdlib.h>

#include "common/fl.h"
#include "engine/cpu.h"
#include "engine/evq.h"
#include "engine/rwsem.h"

FL_TEST(engine_evq_order_and_ties)
{
	struct fl_evq q;
	struct fl_event ev;
	struct fl_rng r;
	uint64_t last_t = 0, last_seq = 0;
	int n = 0;

	fl_evq_init(&q);
	fl_evq_push(&q, 10, 1, 0, 0);
	fl_evq_push(&q, 5, 2, 0, 0);
	fl_evq_push(&q, 10, 3, 0, 0);
	fl_evq_push(&q, 10, 4, 0, 0);
	CHECK(fl_evq_peek(&q)->kind == 2);
	CHECK(fl_evq_pop(&q, &ev) && ev.kind == 2 && q.now == 5);
	/* equal times come out in push order */
	CHECK(fl_evq_pop(&q, &ev) && ev.kind == 1);
	CHECK(fl_evq_pop(&q, &ev) && ev.kind == 3);
	/* a push into the past is clamped to now and counted */
	fl_evq_push(&q, 1, 5, 0, 0);
	CHECK_EQ_U64(q.past_pushes, 1);
	CHECK(fl_evq_pop(&q, &ev) && ev.kind == 4);
	CHECK(fl_evq_pop(&q, &ev) && ev.kind == 5 && ev.time == 10);
	CHECK(!fl_evq_pop(&q, &ev));

	/* random pushes interleaved with pops: always (time, seq) ascending */
	fl_rng_init(&r, 1);
	for (int i = 0; i < 20000; i++) {
		fl_evq_push(&q, q.now + fl_rng_below(&r, 50), 0, 0, 0);
		if (fl_rng_below(&r, 3) == 0 && fl_evq_pop(&q, &ev)) {
			CHECK(ev.time > last_t || (ev.time == last_t && ev.seq > last_seq));
			last_t = ev.time;
			last_seq = ev.seq;
			n++;
		}
	}
	while (fl_evq_pop(&q, &ev)) {
		CHECK(ev.time > last_t || (ev.time == last_t && ev.seq > last_seq));
		last_t = ev.time;
		last_seq = ev.seq;
		n++;
	}
	CHECK_EQ_U64(n, 20000);
	fl_evq_release(&q);
}

FL_TEST(engine_rng_seeded)
{
	struct fl_rng a, b;
	uint64_t x = 0, below[5] = { 0 };

	CHECK_EQ_U64(fl_splitmix64(&x), 0xe220a8397b1dcdafULL);	/* published first output */
	fl_rng_init(&a, 42);
	fl_rng_init(&b, 42);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ_U64(fl_rng_next(&a), fl_rng_next(&b));
	fl_rng_init(&b, 43);
	CHECK(fl_rng_next(&a) != fl_rng_next(&b));
	for (int i = 0; i < 50000; i++) {
		uint64_t v = fl_rng_below(&a, 5);
		double d = fl_rng_double(&a);

		CHECK(v < 5);
		CHECK(d >= 0 && d < 1);
		below[v]++;
	}
	for (int i = 0; i < 5; i++)
		CHECKF(below[i] > 9500 && below[i] < 10500, "bucket %d: %llu", i,
		       (unsigned long long)below[i]);
}

FL_TEST(engine_cpu_fifo)
{
	struct fl_cpu c;
	uint64_t w;

	fl_cpu_init(&c, 2);
	CHECK(fl_cpu_get(&c, 1, 0));
	CHECK(fl_cpu_get(&c, 2, 0));
	CHECK(!fl_cpu_get(&c, 3, 10));
	CHECK(!fl_cpu_get(&c, 4, 20));
	CHECK_EQ_U64(fl_cpu_put(&c, 100, &w), 3);	/* FIFO: 3 before 4 */
	CHECK_EQ_U64(w, 90);
	CHECK_EQ_U64(fl_cpu_put(&c, 150, &w), 4);
	CHECK_EQ_U64(w, 130);
	CHECK_EQ_U64(fl_cpu_put(&c, 200, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.busy, 1);
	CHECK_EQ_U64(fl_cpu_put(&c, 300, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.busy, 0);
	CHECK_EQ_U64(c.stats.wait_total_ns, 220);
	CHECK_EQ_U64(c.stats.max_runq, 2);
	CHECK_EQ_U64(c.stats.busy_ns, 2 * 200 + 100);
	CHECK_EQ_U64(fl_cpu_put(&c, 400, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.stats.anomalies, 1);
	/* many waiters: the ring grows and keeps order */
	CHECK(fl_cpu_get(&c, 0, 0) && fl_cpu_get(&c, 0, 0));
	for (uint32_t i = 0; i < 200; i++)
		CHECK(!fl_cpu_get(&c, 1000 + i, i));
	for (uint32_t i = 0; i < 200; i++)
		CHECK_EQ_U64(fl_cpu_put(&c, 1000, &w), 1000 + i);
	fl_cpu_release(&c);
}

FL_TEST(engine_cpu_ordered_by_key)
{
	struct fl_cpu c;
	uint64_t w;

	fl_cpu_init(&c, 1);
	CHECK(fl_cpu_get_key(&c, 1, 0, 500));
	CHECK_EQ_U64(fl_cpu_head_key(&c), UINT64_MAX);	/* nobody waits */
	CHECK(!fl_cpu_get_key(&c, 2, 1, 300));
	CHECK(!fl_cpu_get_key(&c, 3, 2, 100));
	CHECK(!fl_cpu_get_key(&c, 4, 3, 300));		/* after the equal key of 2 */
	CHECK(!fl_cpu_get(&c, 5, 4));			/* no key: last */
	CHECK(!fl_cpu_get_key(&c, 6, 5, 200));
	CHECK_EQ_U64(fl_cpu_head_key(&c), 100);
	CHECK_EQ_U64(fl_cpu_put(&c, 10, &w), 3);
	CHECK_EQ_U64(w, 8);
	CHECK_EQ_U64(fl_cpu_put(&c, 11, &w), 6);
	CHECK_EQ_U64(fl_cpu_put(&c, 12, &w), 2);
	CHECK_EQ_U64(fl_cpu_put(&c, 13, &w), 4);
	CHECK_EQ_U64(fl_cpu_put(&c, 14, &w), 5);
	CHECK_EQ_U64(fl_cpu_put(&c, 15, &w), FL_TID_NONE);
	/* growth keeps the order */
	CHECK(fl_cpu_get(&c, 0, 0));
	for (uint32_t i = 0; i < 100; i++) {
		CHECK(!fl_cpu_get_key(&c, 1000 + i, 20, 2000 - i));
		CHECK(!fl_cpu_get_key(&c, 2000 + i, 20, 100 + i));
	}
	for (uint32_t i = 0; i < 100; i++)
		CHECK_EQ_U64(fl_cpu_put(&c, 30, &w), 2000 + i);
	for (uint32_t i = 0; i < 100; i++)
		CHECK_EQ_U64(fl_cpu_put(&c, 30, &w), 1099 - i);
	fl_cpu_release(&c);
}

/* Two affine CPUs (migration cost 500 ns, no idle scan); first runs take any idle CPU:
 * thread 1 on CPU 0, thread 2 on CPU 1. */
static void affine_two(struct fl_cpu *c)
{
	fl_cpu_init(c, 2);
	fl_cpu_set_affine(c, 500, 0, 1);
	CHECK(fl_cpu_get(c, 1, 0));
	CHECK(fl_cpu_get(c, 2, 0));
}

/* Thread from stops at t and thread to gets a CPU at t: none was waiting for from's CPU. */
static void hand_over(struct fl_cpu *c, uint32_t from, uint32_t to, uint64_t t)
{
	uint64_t w = 0;

	CHECK_EQ_U64(fl_cpu_put_thread(c, from, t, &w), FL_TID_NONE);
	CHECK(fl_cpu_get(c, to, t));
}

FL_TEST(engine_cpu_affine)
{
	struct fl_cpu c;
	uint64_t w = 0;

	affine_two(&c);
	CHECK_EQ_U64(c.thr[1].on, 0);
	CHECK_EQ_U64(c.thr[2].on, 1);
	/* 2 sleeps: CPU 1 goes idle */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 2, 10, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.busy, 1);
	/* 2 wakes: its previous CPU 1 is idle -> runs there */
	CHECK(fl_cpu_get(&c, 2, 20));
	CHECK_EQ_U64(c.thr[2].on, 1);
	/* 1 sleeps and wakes while 4 runs on CPU 0: it waits on CPU 0, not CPU 1 */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 1, 30, &w), FL_TID_NONE);
	CHECK(fl_cpu_get(&c, 4, 30));
	CHECK_EQ_U64(c.thr[4].on, 0);
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 2, 40, &w), FL_TID_NONE);	/* CPU 1 idle now */
	CHECK(!fl_cpu_get(&c, 1, 50));		/* busy previous CPU: queued there */
	CHECK(fl_cpu_contended(&c, 4));
	CHECK(!fl_cpu_contended(&c, 1));
	CHECK_EQ_U64(c.rq_n, 1);
	/* 4 stops: 1 gets CPU 0 after 50 ns */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 4, 100, &w), 1);
	CHECK_EQ_U64(w, 50);
	CHECK_EQ_U64(c.thr[1].on, 0);
	CHECK_EQ_U64(c.rq_n, 0);
	/* newidle pull: 2 (last ran at 40) waits on busy CPU 1... */
	CHECK(fl_cpu_get(&c, 5, 100));		/* 5 takes idle CPU 1 */
	CHECK_EQ_U64(c.thr[5].on, 1);
	CHECK(!fl_cpu_get(&c, 2, 200));		/* 2's CPU 1 is busy */
	/* ...CPU 0 goes idle at 300: 2 stopped 260 ns ago < 500, cache hot, not pulled */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 1, 300, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.busy, 1);
	/* CPU 0 runs 1 again and goes idle at 600: 2 is no longer hot -> pulled to CPU 0 */
	CHECK(fl_cpu_get(&c, 1, 400));
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 1, 600, &w), 2);
	CHECK_EQ_U64(w, 400);
	CHECK_EQ_U64(c.thr[2].on, 0);
	CHECK_EQ_U64(c.thr[2].home, 0);
	CHECK_EQ_U64(c.rq_n, 0);
	/* impossible calls are counted, not fatal */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 1, 700, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.stats.anomalies, 1);
	fl_cpu_release(&c);

	/* idle_permille 1000: a wake-up onto a busy CPU takes the idle one */
	fl_cpu_init(&c, 2);
	fl_cpu_set_affine(&c, 500, 1000, 1);
	CHECK(fl_cpu_get(&c, 1, 0));
	CHECK(fl_cpu_get(&c, 2, 0));
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 1, 10, &w), FL_TID_NONE);
	CHECK(fl_cpu_get(&c, 3, 10));		/* 3 on CPU 0 */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 2, 20, &w), FL_TID_NONE);
	CHECK(fl_cpu_get(&c, 1, 30));		/* previous CPU 0 busy, CPU 1 idle */
	CHECK_EQ_U64(c.thr[1].on, 1);
	fl_cpu_release(&c);
}

FL_TEST(engine_cpu_affine_pulls_from_a_pile)
{
	struct fl_cpu c;
	uint64_t w = 0;

	affine_two(&c);				/* 1 on CPU 0, 2 on CPU 1 */
	hand_over(&c, 2, 5, 1);			/* first run: the idle CPU 1 */
	hand_over(&c, 1, 3, 2);			/* first run: the idle CPU 0 */
	hand_over(&c, 3, 4, 3);			/* CPU 0 too */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 4, 4, &w), FL_TID_NONE);
	CHECK(fl_cpu_get(&c, 1, 5));		/* home CPU 0, idle: runs */
	/* homes 3 (CPU 0) against 2 (CPU 1): no rebalancing, 3 and 4 wait on CPU 0 */
	CHECK(!fl_cpu_get(&c, 3, 6));
	CHECK(!fl_cpu_get(&c, 4, 6));
	CHECK_EQ_U64(c.stats.rehomed, 0);
	/* CPU 1 goes idle: 3 and 4 are cache hot (off 3 and 2 ns < 500), but two wait on
	 * CPU 0, so the oldest is pulled */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 5, 7, &w), 3);
	CHECK_EQ_U64(c.thr[3].on, 1);
	CHECK_EQ_U64(w, 1);
	/* one waiting and hot: stays */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 3, 8, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.thr[4].home, 0);
	fl_cpu_release(&c);
}

FL_TEST(engine_cpu_affine_rehomes_by_load)
{
	struct fl_cpu c;
	uint64_t w = 0;
	const uint64_t ms = 1000000;

	affine_two(&c);				/* 1 on CPU 0, 2 on CPU 1 */
	hand_over(&c, 1, 3, 100 * ms);		/* CPU 0 stays busy: its utilization grows */
	hand_over(&c, 3, 4, 199 * ms);
	/* 1 wakes: home CPU 0 busy but nothing waits there (spare capacity): it waits on
	 * CPU 0, although CPU 0 is home to 1, 3, 4 and CPU 1 to 2 */
	CHECK(!fl_cpu_get(&c, 1, 200 * ms));
	CHECK_EQ_U64(c.thr[1].home, 0);
	CHECK_EQ_U64(c.stats.rehomed, 0);
	/* 3 wakes: CPU 0 overloaded (1 waits, ~99 % busy over the last 200 ms), 3 >= 1 + 2
	 * active homes: the balancer's move, to CPU 1 (busy with 2: it waits there) */
	CHECK(c.util[0] > 0.95 && c.util[1] > 0.95);
	CHECK(!fl_cpu_get(&c, 3, 201 * ms));
	CHECK_EQ_U64(c.thr[3].home, 1);
	CHECK_EQ_U64(c.stats.rehomed, 1);
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 2, 202 * ms, &w), 3);
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 4, 203 * ms, &w), 1);
	fl_cpu_release(&c);

	/* the same within microseconds of the start: a thread waits on CPU 0, but CPU 0 has
	 * not been busy long enough to be overloaded (utilization ~0): no move */
	affine_two(&c);
	hand_over(&c, 1, 3, 10);
	hand_over(&c, 3, 4, 11);
	CHECK(!fl_cpu_get(&c, 1, 12));
	CHECK(!fl_cpu_get(&c, 3, 13));
	CHECK(c.util[0] < 0.01);
	CHECK_EQ_U64(c.thr[3].home, 0);
	CHECK_EQ_U64(c.stats.rehomed, 0);
	fl_cpu_release(&c);
}

/*
 * The nohz idle balance: 3 wakes onto its busy previous CPU 0 while CPU 1 is
 * idle. A tick while 3 is cache hot leaves it there; one after it is not
 * pulls it onto CPU 1 with its wait; with nothing waiting, or no CPU idle,
 * nothing happens.
 */
FL_TEST(engine_cpu_affine_tick_pulls_to_an_idle_cpu)
{
	struct fl_cpu c;
	uint64_t w = 0;

	affine_two(&c);				/* 1 on CPU 0, 2 on CPU 1 */
	CHECK(!fl_cpu_idle_and_queued(&c));
	CHECK_EQ_U64(fl_cpu_idle_pull(&c, 5, &w), FL_TID_NONE);	/* no CPU idle */
	hand_over(&c, 1, 3, 10);		/* 3's first run: CPU 0 */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 3, 100, &w), FL_TID_NONE);	/* 3 sleeps */
	CHECK(fl_cpu_get(&c, 1, 100));		/* 1 runs on CPU 0 again */
	CHECK_EQ_U64(fl_cpu_put_thread(&c, 2, 150, &w), FL_TID_NONE);	/* CPU 1 idle */
	CHECK(!fl_cpu_idle_and_queued(&c));	/* nothing waits */
	CHECK(!fl_cpu_get(&c, 3, 300));		/* 3 wakes: previous CPU 0 busy, it waits */
	CHECK(fl_cpu_idle_and_queued(&c));
	/* a tick at 400: 3 stopped 300 ns ago, < 500: cache hot, stays */
	CHECK_EQ_U64(fl_cpu_idle_pull(&c, 400, &w), FL_TID_NONE);
	CHECK_EQ_U64(c.thr[3].home, 0);
	/* a tick at 700: no longer hot, pulled onto the idle CPU 1 after 400 ns of waiting */
	CHECK_EQ_U64(fl_cpu_idle_pull(&c, 700, &w), 3);
	CHECK_EQ_U64(w, 400);
	CHECK_EQ_U64(c.thr[3].on, 1);
	CHECK_EQ_U64(c.thr[3].home, 1);
	CHECK_EQ_U64(c.rq_n, 0);
	CHECK_EQ_U64(c.busy, 2);
	CHECK(!fl_cpu_idle_and_queued(&c));
	CHECK_EQ_U64(fl_cpu_idle_pull(&c, 800, &w), FL_TID_NONE);
	fl_cpu_release(&c);
}

FL_TEST(engine_io_depth_and_latencies)
{
	struct fl_io io;
	struct fl_err err;
	uint64_t done, tag;
	const uint64_t lat[] = { 100, 200, 300 };
	const uint64_t lo[] = { 1000, 50000 }, hi[] = { 2000, 60000 }, cnt[] = { 3, 1 };
	int in_first = 0;

	fl_io_init_fixed(&io, 1, 100);
	CHECK(fl_io_submit(&io, 0, 1, &done) && done == 100);
	CHECK(!fl_io_submit(&io, 10, 2, &done));	/* depth 1: queued */
	CHECK(fl_io_complete(&io, 100, &tag, &done) && tag == 2 && done == 200);
	CHECK(!fl_io_complete(&io, 200, &tag, &done));
	CHECK_EQ_U64(io.stats.queue_ns, 90);
	fl_io_release(&io);

	CHECK(fl_io_init_samples(&io, 0, FL_IO_CYCLE, lat, 3, 1, &err) == 0);
	for (int i = 0; i < 6; i++) {
		CHECK(fl_io_submit(&io, 0, i, &done));	/* depth 0: unlimited */
		CHECK_EQ_U64(done, lat[i % 3]);
	}
	fl_io_release(&io);
	CHECK(fl_io_init_samples(&io, 0, FL_IO_SAMPLES, lat, 0, 1, &err) == -1);
	CHECK(strstr(err.msg, "no latency samples") != NULL);
	fl_io_release(&io);

	CHECK(fl_io_init_hist(&io, 4, lo, hi, cnt, 2, 9, &err) == 0);
	for (int i = 0; i < 4000; i++) {
		uint64_t d = fl_io_draw(&io);

		CHECK((d >= 1000 && d < 2000) || (d >= 50000 && d < 60000));
		in_first += d < 2000;
	}
	CHECKF(in_first > 2800 && in_first < 3200, "%d of 4000 in the 3/4 bin", in_first);
	fl_io_release(&io);
}

/*
 * A device in rounds (fl_io_set_rounds): a request finding no open round opens
 * one a draw later; the ones submitted before it completes join it, spaced by
 * the gap in submission order; a request after it opens the next; every miss
 * goes to the round after the open one; the depth limit no longer applies.
 */
FL_TEST(engine_io_rounds)
{
	struct fl_io io;
	struct fl_err err;
	uint64_t done;
	const uint64_t lat[] = { 1000, 3000 };

	CHECK(fl_io_init_samples(&io, 1, FL_IO_CYCLE, lat, 2, 1, &err) == 0);
	fl_io_set_rounds(&io, 5, 0);
	CHECK(fl_io_submit(&io, 0, 1, &done) && done == 1000);	/* opens: the first draw */
	CHECK(fl_io_submit(&io, 400, 2, &done) && done == 1005);	/* joins, past depth 1 */
	CHECK(fl_io_submit(&io, 999, 3, &done) && done == 1010);
	CHECK(fl_io_submit(&io, 1000, 4, &done) && done == 4000);	/* completed: a new one */
	CHECK(fl_io_submit(&io, 1200, 5, &done) && done == 4005);
	CHECK_EQ_U64(io.stats.service_ns, 1000 + 605 + 11 + 3000 + 2805);
	fl_io_release(&io);

	/* all miss: each joins the round after the open one, drawn from the open one's end */
	CHECK(fl_io_init_samples(&io, 0, FL_IO_CYCLE, lat, 2, 1, &err) == 0);
	fl_io_set_rounds(&io, 5, 1000000);
	CHECK(fl_io_submit(&io, 0, 1, &done) && done == 1000);
	CHECK(fl_io_submit(&io, 10, 2, &done) && done == 4000);
	CHECK(fl_io_submit(&io, 20, 3, &done) && done == 4005);
	CHECK(fl_io_submit(&io, 1500, 4, &done) && done == 5000);	/* 4000 is open: it misses that */
	fl_io_release(&io);
}

/*
 * Throughput floor of the lock path: threads doing read lock/unlock with a
 * writer now and then, through the event queue. The real target (>= 5 M
 * simulated operations/s on one core) is measured by tests/bench/engine-bench;
 * here a floor low enough for sanitizer builds guards against a slow path.
 */
FL_TEST(engine_bench_floor)
{
	struct fl_rwsem sem;
	struct fl_rwsem_cfg cfg;
	struct fl_evq q;
	struct fl_event ev;
	struct fl_rng r;
	struct fl_rwsem_waiter w[16];
	uint64_t ops = 0, t0, t1;
	double rate;

	fl_rwsem_cfg_default(&cfg);
	cfg.record = false;
	fl_rwsem_init(&sem, &cfg);
	fl_evq_init(&q);
	fl_rng_init(&r, 3);
	for (int i = 0; i < 16; i++) {
		fl_rwsem_waiter_init(&w[i], i, 120);
		fl_evq_push(&q, fl_rng_below(&r, 1000), 0, i, 0);
	}
	t0 = fl_now_ns();
	while (ops < 400000 && fl_evq_pop(&q, &ev)) {
		struct fl_rwsem_waiter *me = &w[ev.tid], *x;
		enum fl_rwsem_res res;

		ops++;
		if (ev.kind == 0) {		/* lock */
			res = ev.tid == 0 ? fl_rwsem_down_write(&sem, me, ev.time, 0)
					  : fl_rwsem_down_read(&sem, me, ev.time, 0);
			if (res == FL_RWSEM_ACQUIRED)
				fl_evq_push(&q, ev.time + 500, 1, ev.tid, 0);
			else if (res == FL_RWSEM_SPINNING)
				fl_evq_push(&q, me->spin_until, 3, ev.tid, 0);
		} else if (ev.kind == 1) {	/* unlock */
			if (me->state == FL_RWS_HOLD_WRITE)
				fl_rwsem_up_write(&sem, me, ev.time);
			else
				fl_rwsem_up_read(&sem, me, ev.time);
			fl_evq_push(&q, ev.time + 100 + fl_rng_below(&r, 2000), 0, ev.tid, 0);
		} else if (ev.kind == 2) {	/* woken writer runs */
			if (fl_rwsem_write_wakeup(&sem, me, ev.time) == FL_RWSEM_ACQUIRED)
				fl_evq_push(&q, ev.time + 500, 1, ev.tid, 0);
		} else if (me->state == FL_RWS_SPINNING) {
			if (fl_rwsem_spin_end(&sem, me, ev.time) == FL_RWSEM_ACQUIRED)
				fl_evq_push(&q, ev.time + 500, 1, ev.tid, 0);
		}
		for (x = fl_rwsem_woken(&sem); x; x = x->wake_next)
			fl_evq_push(&q, ev.time + (x->state == FL_RWS_WOKEN ? 1000 : 500),
				    x->state == FL_RWS_WOKEN ? 2 : 1, x->tid, 0);
	}
	t1 = fl_now_ns();
	rate = ops / ((t1 - t0 + 1) / 1e9);
	CHECK_EQ_U64(sem.stats.anomalies, 0);
	CHECK(sem.stats.acq[1] > 100 && sem.stats.queued[0] > 100);
	CHECKF(rate > 300000, "%.0f simulated operations/s", rate);
	printf("  %.2f M simulated lock operations/s (this build)\n", rate / 1e6);
	fl_rwsem_release(&sem);
	fl_evq_release(&q);
}
