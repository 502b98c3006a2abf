//! The daemon's allocator: what it frees is wiped, and large blocks grow without copies.
//!
//! Locking drops the decrypted documents and the index, and automerge has no way to wipe
//! its own memory; so every block is wiped when freed, and a locked daemon's memory holds
//! no entry's text (`tests/privacy.rs` scans it). `zeroizing-alloc` did the wiping before,
//! but it grows a block by allocating a new one, copying and wiping the old: loading a
//! 100,000-entry journal spent 0.7 s of its 1.4 s in automerge doing that (automerge grows
//! its columns a step at a time; `bench/RESULTS.md`).
//!
//! Here a block of [`LARGE`] bytes or more is its own anonymous mapping, grown with
//! `mremap`, which moves the pages themselves, so no copy of the contents is left behind.
//! It is wiped before `munmap` hands its pages back (the kernel zeroes a page only when it
//! gives it out again, so until then the text would sit in free memory), and the pages a
//! shrinking block lets go are wiped and unmapped the same way. If the kernel refuses to unmap (it can,
//! when the process is at its limit of mappings), the block stays mapped, wiped: a leak of
//! address space, never of text. Smaller blocks come from the system allocator and are
//! wiped before they go back to it, as before. Which kind a block is follows from its
//! size alone, which Rust passes to every call, so nothing is stored beside it.
//!
//! Cost: one `memset` of every block freed, large ones included (at 100,000 entries the
//! final free of the document is a few milliseconds); growth stays copy-free.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

/// From this size on a block is its own mapping (glibc's own threshold starts at 128 KiB;
/// a mapping per block costs a system call, so only blocks this large are worth one).
pub const LARGE: usize = 256 * 1024;

/// The page size this allocator assumes for its mappings; blocks needing a stricter
/// alignment than this (none in Haven) go to the system allocator.
const PAGE: usize = 4096;

/// See the module documentation. The inner allocator serves the small blocks; it is the
/// system's in the daemon, and a recording one in this module's tests.
pub struct WipingAlloc<A = System>(A);

impl WipingAlloc {
    /// The daemon's allocator: small blocks from the system allocator.
    pub const fn new() -> Self {
        Self(System)
    }
}

impl Default for WipingAlloc {
    fn default() -> Self {
        Self::new()
    }
}

fn is_large(size: usize, align: usize) -> bool {
    size >= LARGE && align <= PAGE
}

/// `size` rounded up to whole pages (`None` if that overflows).
fn pages(size: usize) -> Option<usize> {
    size.checked_add(PAGE - 1).map(|s| s & !(PAGE - 1))
}

/// The wiping function, called through a pointer read with `read_volatile`: the compiler
/// cannot see what it calls, so it cannot treat the wipe as a dead store before `free`
/// (which LLVM otherwise knows to drop), and the call is still a plain `memset`.
#[used]
static WIPER: unsafe fn(*mut u8, usize) = write_zeroes;

/// # Safety
/// `ptr` must be valid for `len` bytes of writes.
unsafe fn write_zeroes(ptr: *mut u8, len: usize) {
    // SAFETY: the caller's block.
    unsafe { ptr::write_bytes(ptr, 0, len) };
}

/// Wipes `len` bytes at `ptr`.
///
/// # Safety
/// `ptr` must be valid for `len` bytes of writes.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    // SAFETY: the static always holds `write_zeroes`; the caller gives a block it owns.
    unsafe {
        let wiper = ptr::read_volatile(&raw const WIPER);
        wiper(ptr, len);
    }
}

fn map(size: usize) -> *mut u8 {
    let Some(len) = pages(size) else {
        return ptr::null_mut();
    };
    // SAFETY: an anonymous private mapping touches no existing memory.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p.cast()
    }
}

/// The kernel's `munmap`, or a stand-in in the tests.
type Munmap = unsafe extern "C" fn(*mut libc::c_void, libc::size_t) -> libc::c_int;

/// Wipes `len` bytes of a mapping at `ptr` and hands them back to the kernel; if it
/// refuses, they stay mapped, wiped (a leak of address space, never of text).
///
/// # Safety
/// `ptr..ptr + len` must be whole pages of a mapping made by [`map`], not used after.
unsafe fn release(ptr: *mut u8, len: usize, munmap: Munmap) {
    // SAFETY: the caller's pages, writable until unmapped.
    unsafe {
        wipe(ptr, len);
        munmap(ptr.cast(), len);
    }
}

// SAFETY: every block is either the inner allocator's (size below LARGE, or aligned
// beyond a page) or a mapping of its own, decided from the layout the caller passes back;
// each path frees a block the way it was made.
unsafe impl<A: GlobalAlloc> GlobalAlloc for WipingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size(), layout.align()) {
            map(layout.size())
        } else {
            // SAFETY: forwarded as given.
            unsafe { self.0.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size(), layout.align()) {
            // Fresh anonymous pages are zero.
            map(layout.size())
        } else {
            // SAFETY: forwarded as given.
            unsafe { self.0.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(layout.size(), layout.align()) {
            if let Some(len) = pages(layout.size()) {
                // SAFETY: a large block is a mapping of this many pages.
                unsafe { release(ptr, len, libc::munmap) }
            }
        } else {
            // SAFETY: the caller's block of this size, freed right after.
            unsafe {
                wipe(ptr, layout.size());
                self.0.dealloc(ptr, layout);
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        let (was_large, now_large) = (is_large(layout.size(), align), is_large(new_size, align));
        if was_large && now_large {
            let (Some(old_len), Some(new_len)) = (pages(layout.size()), pages(new_size)) else {
                return ptr::null_mut();
            };
            if old_len == new_len {
                return ptr;
            }
            if new_len < old_len {
                // The pages past the new end go back to the kernel wiped. If it refuses
                // to let them go, the block is still good for the smaller size, and the
                // wiped tail stays mapped (a later free unmaps only the new length).
                // SAFETY: the tail is whole pages of the caller's mapping.
                unsafe { release(ptr.add(new_len), old_len - new_len, libc::munmap) };
                return ptr;
            }
            // SAFETY: the caller's mapping of `old_len` bytes; on failure it is untouched.
            let p = unsafe { libc::mremap(ptr.cast(), old_len, new_len, libc::MREMAP_MAYMOVE) };
            return if p == libc::MAP_FAILED {
                ptr::null_mut()
            } else {
                p.cast()
            };
        }
        // Crossing LARGE, or a small block: a new block, the contents copied, the old one
        // wiped and freed (the system allocator's `realloc` could move it unwiped).
        // SAFETY: the layout's alignment is valid and `new_size` non-zero (the caller's).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
        // SAFETY: as for `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller of the two sizes, and distinct.
            unsafe {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Allocates `size` bytes, fills them with a pattern, grows or shrinks through each
    /// size in `steps`, and checks the pattern survives every move.
    fn walk(start: usize, steps: &[usize], zeroed: bool) {
        let a = WipingAlloc::new();
        let align = 8;
        let mut layout = Layout::from_size_align(start, align).expect("layout");
        // SAFETY: a non-zero size; every pointer below is checked and freed once.
        unsafe {
            let mut p = if zeroed {
                a.alloc_zeroed(layout)
            } else {
                a.alloc(layout)
            };
            assert!(!p.is_null());
            if zeroed {
                assert!((0..start).all(|i| *p.add(i) == 0), "alloc_zeroed is zero");
            }
            for i in 0..start {
                *p.add(i) = (i % 251) as u8;
            }
            let mut kept = start;
            for &size in steps {
                p = a.realloc(p, layout, size);
                assert!(!p.is_null(), "realloc to {size}");
                kept = kept.min(size);
                for i in 0..kept {
                    assert_eq!(
                        *p.add(i),
                        (i % 251) as u8,
                        "byte {i} after realloc to {size}"
                    );
                }
                for i in kept..size {
                    *p.add(i) = (i % 251) as u8;
                }
                kept = size;
                layout = Layout::from_size_align(size, align).expect("layout");
            }
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn contents_survive_growing_and_shrinking_across_the_large_threshold() {
        walk(
            10,
            &[100, LARGE - 1, LARGE, LARGE + 1, 3 * LARGE + 7],
            false,
        );
        walk(
            4 * LARGE,
            &[4 * LARGE + 1, 2 * LARGE, LARGE, LARGE - 1, 64, 1],
            true,
        );
        walk(LARGE + 5, &[LARGE + 6, LARGE + 4096, 20 * LARGE], true);
    }

    proptest::proptest! {
        /// Any sequence of sizes, on either side of [`LARGE`] and across it, keeps what
        /// the block held up to the smaller size, with several blocks alive at once.
        #[test]
        fn random_reallocations_keep_their_contents(
            steps in proptest::collection::vec(
                (0usize..3, proptest::prop_oneof![1usize..600, LARGE - 600..LARGE + 600, 1usize..4 * LARGE]),
                1..24,
            ),
        ) {
            let a = WipingAlloc::new();
            let mut blocks: [(*mut u8, usize, u8); 3] = [(ptr::null_mut(), 0, 0); 3];
            for (n, (which, size)) in steps.into_iter().enumerate() {
                let (p, old, fill) = blocks[which];
                let layout = |size| Layout::from_size_align(size, 16).expect("layout");
                // SAFETY: each block is used with the layout it was made with, and freed once.
                unsafe {
                    let q = if p.is_null() { a.alloc(layout(size)) } else { a.realloc(p, layout(old), size) };
                    proptest::prop_assert!(!q.is_null());
                    for i in 0..old.min(size) {
                        proptest::prop_assert_eq!(*q.add(i), fill, "byte {} of {} after {} -> {}", i, which, old, size);
                    }
                    let fill = n as u8;
                    q.write_bytes(fill, size);
                    blocks[which] = (q, size, fill);
                }
            }
            for (p, size, _) in blocks {
                if !p.is_null() {
                    // SAFETY: made above with this size.
                    unsafe { a.dealloc(p, Layout::from_size_align(size, 16).expect("layout")) };
                }
            }
        }
    }

    /// What the process can read at `p`, through `/proc/self/mem`, which answers an error
    /// for an unmapped address instead of a fault.
    fn read_back(p: *const u8, len: usize) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem");
        let mut buf = vec![0u8; len];
        mem.read_exact_at(&mut buf, p as u64).ok().map(|()| buf)
    }

    #[test]
    fn a_freed_large_block_is_unmapped() {
        let a = WipingAlloc::new();
        let layout = Layout::from_size_align(LARGE * 4, 8).expect("layout");
        // SAFETY: allocated, written, and freed once.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % PAGE, 0, "a mapping starts on a page");
            p.write_bytes(7, layout.size());
            assert_eq!(read_back(p, PAGE), Some(vec![7; PAGE]));
            a.dealloc(p, layout);
            // Another test's thread may map the same range right after; its pages would
            // be fresh (zero), never this block's sevens.
            let kept = read_back(p, PAGE).is_some_and(|b| b.contains(&7));
            assert!(!kept, "a freed large block left the process");
        }
    }

    #[test]
    fn a_shrinking_large_block_lets_its_tail_go() {
        let a = WipingAlloc::new();
        let layout = Layout::from_size_align(LARGE * 4, 8).expect("layout");
        // SAFETY: allocated, shrunk and freed once, each with its own layout.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            p.write_bytes(7, layout.size());
            let q = a.realloc(p, layout, LARGE);
            assert_eq!(q, p, "a shrinking mapping stays where it is");
            assert_eq!(
                read_back(q, LARGE),
                Some(vec![7; LARGE]),
                "the head is kept"
            );
            let tail = read_back(q.add(LARGE), PAGE);
            assert!(
                !tail.is_some_and(|b| b.contains(&7)),
                "the tail left the process"
            );
            a.dealloc(q, Layout::from_size_align(LARGE, 8).expect("layout"));
        }
    }

    /// What the stand-in `munmap` saw: the pages it was given were already wiped.
    static SEEN_WIPED: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn refusing_munmap(p: *mut libc::c_void, len: libc::size_t) -> libc::c_int {
        // SAFETY: `release` passes pages it still owns.
        let all_zero = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
            .iter()
            .all(|&b| b == 0);
        if all_zero {
            SEEN_WIPED.fetch_add(1, Ordering::SeqCst);
        }
        -1
    }

    #[test]
    fn a_block_the_kernel_refuses_to_unmap_stays_mapped_and_wiped() {
        let len = pages(LARGE).expect("pages");
        let p = map(len);
        assert!(!p.is_null());
        // SAFETY: the mapping made above, released by the stand-in (which keeps it) and
        // then unmapped for real.
        unsafe {
            p.write_bytes(7, len);
            release(p, len, refusing_munmap);
            assert_eq!(SEEN_WIPED.load(Ordering::SeqCst), 1, "wiped before munmap");
            assert_eq!(read_back(p, len), Some(vec![0; len]), "still mapped, wiped");
            libc::munmap(p.cast(), len);
        }
    }

    /// A small-block allocator that checks every block it gets back was wiped, and that
    /// can be told to fail.
    #[derive(Default)]
    struct Checking {
        freed: AtomicUsize,
        freed_unwiped: AtomicUsize,
        fail: AtomicBool,
    }

    // SAFETY: forwards to the system allocator, or fails with null as allowed.
    unsafe impl GlobalAlloc for Checking {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if self.fail.load(Ordering::SeqCst) {
                return ptr::null_mut();
            }
            // SAFETY: forwarded as given.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the block is still the caller's until freed below.
            let wiped = unsafe { std::slice::from_raw_parts(ptr, layout.size()) }
                .iter()
                .all(|&b| b == 0);
            self.freed.fetch_add(1, Ordering::SeqCst);
            if !wiped {
                self.freed_unwiped.fetch_add(1, Ordering::SeqCst);
            }
            // SAFETY: made by `alloc` above with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[test]
    fn a_small_block_is_wiped_before_the_inner_allocator_gets_it_back() {
        let a = WipingAlloc(Checking::default());
        let layout = Layout::from_size_align(100, 8).expect("layout");
        // SAFETY: allocated, grown and freed once, each with its own layout.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            p.write_bytes(0xAA, 100);
            let q = a.realloc(p, layout, 300);
            assert!(!q.is_null());
            assert_eq!(std::slice::from_raw_parts(q, 100), &[0xAA; 100][..]);
            q.write_bytes(0xBB, 300);
            a.dealloc(q, Layout::from_size_align(300, 8).expect("layout"));
        }
        assert_eq!(
            a.0.freed.load(Ordering::SeqCst),
            2,
            "the old block and the new"
        );
        assert_eq!(a.0.freed_unwiped.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_failed_reallocation_leaves_the_old_block_whole() {
        let a = WipingAlloc(Checking::default());
        let small = Layout::from_size_align(100, 8).expect("layout");
        let large = Layout::from_size_align(LARGE * 2, 8).expect("layout");
        // SAFETY: each block is allocated, kept through a failed realloc, and freed once.
        unsafe {
            let p = a.alloc(small);
            let m = a.alloc(large);
            assert!(!p.is_null() && !m.is_null());
            p.write_bytes(0xAA, small.size());
            m.write_bytes(0xCC, large.size());
            a.0.fail.store(true, Ordering::SeqCst);
            assert!(a.realloc(p, small, 200).is_null(), "small to small");
            assert!(a.realloc(m, large, 64).is_null(), "large to small");
            assert_eq!(a.0.freed.load(Ordering::SeqCst), 0, "nothing was freed");
            assert_eq!(std::slice::from_raw_parts(p, 100), &[0xAA; 100][..]);
            assert!(std::slice::from_raw_parts(m, large.size())
                .iter()
                .all(|&b| b == 0xCC));
            a.0.fail.store(false, Ordering::SeqCst);
            a.dealloc(p, small);
            a.dealloc(m, large);
        }
    }

    #[test]
    fn a_stricter_alignment_than_a_page_goes_to_the_system_allocator() {
        assert!(!is_large(LARGE * 2, PAGE * 2));
        assert!(is_large(LARGE, PAGE));
        assert!(!is_large(LARGE - 1, 8));
        let a = WipingAlloc::new();
        let layout = Layout::from_size_align(LARGE * 2, PAGE * 4).expect("layout");
        // SAFETY: allocated and freed once.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(p as usize % (PAGE * 4), 0);
            a.dealloc(p, layout);
        }
    }

    #[test]
    fn sizes_near_the_end_of_the_address_space_fail_cleanly() {
        assert_eq!(pages(usize::MAX), None);
        assert!(map(usize::MAX - 10).is_null());
    }
}
