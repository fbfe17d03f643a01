// Runs the kernels of src/main/cuda/tripletflow.cu on the CPU, for checking their logic where
// there is no GPU (GpuKernelEmulationTest). Blocks run one at a time; a block's threads run as
// std::threads that meet at __syncthreads, so __shared__ arrays (static here) are per block.
// Built with -ffp-contract=off: no fused multiply-add, as the PTX (-fmad=false).
//
// Input (little-endian): int32 N, D, anchorCount, distance, miner, loss, negNum, hardNum, randNum,
// float32 margin, uint64 batchKey, int32 labels[N], int32 anchors[anchorCount], float32 f[N*D].
// Output: int32 capacity, selectedCount[A], candidates[A], selected[A*capacity],
// float32 records[A*capacity*3], float32 unscaled gradients[N*D] - the device's download.
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

struct Index3 { unsigned x, y, z; };
thread_local Index3 threadIdx, blockIdx;
Index3 blockDim, gridDim;
static std::barrier<>* block_barrier = nullptr;
static std::mutex atomics;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
inline void __syncthreads() { block_barrier->arrive_and_wait(); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float atomicAdd(float* p, float v) { std::lock_guard<std::mutex> l(atomics); float o = *p; *p = o + v; return o; }
using std::min;
using std::max;

#include "../../main/cuda/tripletflow.cu"

template <class Kernel>
static void launch(unsigned gx, unsigned gy, unsigned bx, unsigned by, bool synchronising, Kernel kernel) {
    gridDim = {gx, gy, 1};
    blockDim = {bx, by, 1};
    for (unsigned y = 0; y < gy; y++) {
        for (unsigned x = 0; x < gx; x++) {
            if (!synchronising) {
                for (unsigned ty = 0; ty < by; ty++)
                    for (unsigned tx = 0; tx < bx; tx++) {
                        blockIdx = {x, y, 0};
                        threadIdx = {tx, ty, 0};
                        kernel();
                    }
                continue;
            }
            std::barrier<> bar(bx * by);
            block_barrier = &bar;
            std::vector<std::thread> threads;
            for (unsigned ty = 0; ty < by; ty++)
                for (unsigned tx = 0; tx < bx; tx++)
                    threads.emplace_back([=] { blockIdx = {x, y, 0}; threadIdx = {tx, ty, 0}; kernel(); });
            for (auto& t : threads) t.join();
        }
    }
}

template <class T> static void read(FILE* in, T* v, size_t count) {
    if (fread(v, sizeof(T), count, in) != count) { fprintf(stderr, "short input\n"); exit(2); }
}

int main(int argc, char** argv) {
    if (argc != 4) { fprintf(stderr, "usage: host_emulation CAPACITY IN OUT\n"); return 64; }
    int capacity = atoi(argv[1]);
    FILE* in = fopen(argv[2], "rb");
    int32_t h[10];
    read(in, h, 10);
    int n = h[0], d = h[1], A = h[2], distance = h[3], miner = h[4], loss = h[5], negNum = h[6], hardNum = h[7], randNum = h[8];
    int rows = h[9];  // the batch's rows; the rest of the n are the cross-batch memory's
    float margin;
    uint64_t batchKey;
    read(in, &margin, 1);
    read(in, &batchKey, 1);
    std::vector<int> labels(n), anchors(std::max(A, 1));
    std::vector<float> f((size_t)n * d);
    read(in, labels.data(), n);
    read(in, anchors.data(), A);
    read(in, f.data(), f.size());
    fclose(in);

    std::vector<float> g((size_t)n * n), diag(n), norm(n), unit((size_t)n * d), alpha(n), s((size_t)n * n, 0.0f);
    std::vector<int> scratch((size_t)std::max(A, 1) * 2 * n), selectedCount(std::max(A, 1)), candidates(std::max(A, 1));
    std::vector<int> selected((size_t)std::max(A, 1) * capacity);
    std::vector<float> records((size_t)std::max(A, 1) * capacity * 3), out((size_t)n * d);
    const unsigned T = 16;
    unsigned tiles = (n + T - 1) / T;
    launch(tiles, tiles, T, T, true, [&] { gram(f.data(), n, d, g.data(), n); });
    launch((n + 255) / 256, 1, 256, 1, false, [&] { diagonal(g.data(), n, n, diag.data(), norm.data()); });
    launch(tiles, tiles, T, T, false, [&] { distances(g.data(), n, n, distance, diag.data(), norm.data()); });
    const float* basis = f.data();
    if (distance == 3) {
        launch((unsigned)(((size_t)n * d + 255) / 256), 1, 256, 1, false, [&] { unit_rows(f.data(), n, d, norm.data(), unit.data()); });
        basis = unit.data();
    }
    if (A > 0) {
        unsigned blocks = (A + 127) / 128;
        launch(blocks, 1, 128, 1, false, [&] {
            mine(g.data(), n, labels.data(), n, anchors.data(), A, miner, margin, negNum, hardNum, randNum,
                 (unsigned long long)batchKey, scratch.data(), capacity, selected.data(), selectedCount.data(), candidates.data());
        });
        launch(blocks, 1, 128, 1, false, [&] {
            evaluate(g.data(), n, anchors.data(), A, n, rows, loss, margin, selected.data(), selectedCount.data(), capacity,
                     records.data(), s.data());
        });
    }
    // 32 threads per block instead of the backend's 256: the kernels stride by blockDim, and 8x fewer host threads.
    launch(n, 1, 32, 1, true, [&] { weights(s.data(), g.data(), n, n, distance, alpha.data()); });
    launch((d + T - 1) / T, tiles, T, T, true, [&] { gradient_product(s.data(), basis, n, d, out.data()); });
    launch(n, 1, 32, 1, true, [&] { finish_rows(out.data(), basis, alpha.data(), norm.data(), n, d, distance == 3 ? 1 : 0); });

    FILE* o = fopen(argv[3], "wb");
    fwrite(&capacity, 4, 1, o);
    fwrite(selectedCount.data(), 4, A, o);
    fwrite(candidates.data(), 4, A, o);
    fwrite(selected.data(), 4, (size_t)A * capacity, o);
    fwrite(records.data(), 4, (size_t)A * capacity * 3, o);
    fwrite(out.data(), 4, (size_t)rows * d, o);
    fclose(o);
    return 0;
}
