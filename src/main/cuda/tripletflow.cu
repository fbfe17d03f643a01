// The mining step on the GPU: one kernel per stage, the same float operations as the CPU backend.
//
// Compiled with -fmad=false: every multiply and add rounds on its own, as in Java, so distances,
// hinges and therefore the selected triplets are bit-identical to the CPU backend's. Only the
// gradient product sums in another order (float32 tolerance). See docs/gpu.md.
//
// With a cross-batch memory the host uploads the batch's rows followed by the memory's: n is then
// batch + memory rows, every distance and miner runs over all n columns as the CPU does, and only
// the batch's rows (< rows) get coefficients and gradients.

#include <stdint.h>

#define TILE 16

// ---- Distances ----------------------------------------------------------------------------

// g[i][j] = sum_k f[i][k] * f[j][k], k in order (the seed's loop), for tiles on or above the
// diagonal; mirrored after. f is n x d row-major, g has row stride `stride`.
extern "C" __global__ void gram(const float* f, int n, int d, float* g, int stride) {
    __shared__ float a[TILE][TILE + 1];
    __shared__ float b[TILE][TILE + 1];
    int bi = blockIdx.y, bj = blockIdx.x;
    if (bi > bj) return;
    int i = bi * TILE + threadIdx.y;
    int j = bj * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int k0 = 0; k0 < d; k0 += TILE) {
        int ka = k0 + threadIdx.x;
        int rb = bj * TILE + threadIdx.y;
        a[threadIdx.y][threadIdx.x] = (i < n && ka < d) ? f[(size_t)i * d + ka] : 0.0f;
        b[threadIdx.y][threadIdx.x] = (rb < n && ka < d) ? f[(size_t)rb * d + ka] : 0.0f;
        __syncthreads();
        int kmax = min(TILE, d - k0);
        for (int kk = 0; kk < kmax; kk++) {
            acc = __fadd_rn(acc, __fmul_rn(a[threadIdx.y][kk], b[threadIdx.x][kk]));
        }
        __syncthreads();
    }
    if (i < n && j < n) {
        g[(size_t)i * stride + j] = acc;
        g[(size_t)j * stride + i] = acc;
    }
}

// diag[i] = g[i][i], norm[i] = sqrt(g[i][i]).
extern "C" __global__ void diagonal(const float* g, int n, int stride, float* diag, float* norm) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = g[(size_t)i * stride + i];
        diag[i] = v;
        norm[i] = __fsqrt_rn(v);
    }
}

// Gram entries to distances in place; the diagonal is 0. kind: 0 neg-dot, 1 squared-euclidean,
// 2 euclidean, 3 cosine (as engine.distance).
extern "C" __global__ void distances(float* g, int n, int stride, int kind, const float* diag, const float* norm) {
    int i = blockIdx.y * blockDim.y + threadIdx.y;
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n || j >= n) return;
    size_t at = (size_t)i * stride + j;
    if (i == j) { g[at] = 0.0f; return; }
    float gij = g[at];
    float v;
    if (kind == 0) {
        v = -gij;
    } else if (kind == 1 || kind == 2) {
        float s = __fsub_rn(__fadd_rn(diag[i], diag[j]), __fmul_rn(2.0f, gij));
        s = fmaxf(0.0f, s);
        v = kind == 1 ? s : __fsqrt_rn(s);
    } else {
        float den = __fmul_rn(norm[i], norm[j]);
        v = den > 0.0f ? __fsub_rn(1.0f, __fdiv_rn(gij, den)) : 1.0f;
    }
    g[at] = v;
}

// u = f / |f| (0 for a zero row), the basis of the cosine gradient.
extern "C" __global__ void unit_rows(const float* f, int n, int d, const float* norm, float* u) {
    size_t t = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (size_t)n * d) return;
    float nr = norm[t / d];
    u[t] = nr > 0.0f ? __fdiv_rn(f[t], nr) : 0.0f;
}

// ---- The counter generator (engine.random.CounterRandom) ------------------------------------

__device__ __forceinline__ uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct Counter {
    uint64_t key;
    uint64_t count;
    __device__ unsigned int next() {
        count++;
        return (unsigned int)(mix64(key + count * 0x9e3779b97f4a7c15ULL) >> 32);
    }
    __device__ int below(int bound) { return (int)(next() % (unsigned int)bound); }
    // Forward partial Fisher-Yates: a uniformly random ordered choice of `count` in front.
    __device__ void choose_front(int* a, int length, int picks) {
        for (int i = 0; i < picks && i < length - 1; i++) {
            int j = i + below(length - i);
            int t = a[i]; a[i] = a[j]; a[j] = t;
        }
    }
};

// ---- Miners: one thread per anchor -----------------------------------------------------------

struct Anchor {
    const float* row;  // dis[a][*]
    const int* labels;
    int a;
    __device__ bool harder(int j, int k) const {
        float dj = row[j], dk = row[k];
        return dj < dk || (dj == dk && j < k);
    }
};

// The k hardest of c[0..count) into top[0..k), in order (k < count).
__device__ void hardest(const Anchor& an, const int* c, int count, int k, int* top) {
    int size = 0;
    for (int t = 0; t < count; t++) {
        int j = c[t];
        if (size == k && !an.harder(j, top[k - 1])) continue;
        int i = size < k ? size++ : k - 1;
        while (i > 0 && an.harder(j, top[i - 1])) { top[i] = top[i - 1]; i--; }
        top[i] = j;
    }
}

// Writes the anchor's selected negatives to out (bit 31 = random pick), ascending, returns how
// many; candidates[k] gets the candidate count. miner: 0 rank-hard, 1 semi-hard, 2 batch-hard,
// 3 batch-all (positives = pairs: positive = a + 1).
extern "C" __global__ void mine(const float* dis, int stride, const int* labels, int n, const int* anchors,
                                int anchorCount, int miner, float margin, int negNum, int hardNum, int randNum,
                                unsigned long long batchKey, int* scratch, int capacity, int* selected,
                                int* selectedCount, int* candidates) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= anchorCount) return;
    int a = anchors[k];
    int p = a + 1;
    Anchor an{dis + (size_t)a * stride, labels, a};
    int la = labels[a];
    float dap = an.row[p];
    int* c = scratch + (size_t)k * 2 * n;
    int* sid1 = c + n;
    int* out = selected + (size_t)k * capacity;
    int m = 0;
    int count = 0;
    if (miner == 2) {  // batch-hard with one positive: the nearest negative
        int nearest = -1;
        for (int j = 0; j < n; j++) {
            if (labels[j] != la) { count++; if (nearest < 0 || an.harder(j, nearest)) nearest = j; }
        }
        if (nearest >= 0) out[m++] = nearest;
    } else if (miner == 1) {  // semi-hard, else the hardest negative
        int hardestNeg = -1;
        for (int j = 0; j < n; j++) {
            if (labels[j] == la) continue;
            if (hardestNeg < 0 || an.harder(j, hardestNeg)) hardestNeg = j;
            float d = an.row[j];
            if (d > dap && __fadd_rn(__fsub_rn(dap, d), margin) > 0.0f) c[count++] = j;
        }
        if (count == 0) {
            if (hardestNeg >= 0) out[m++] = hardestNeg;
        } else {
            int take = min(negNum, count);
            if (take < count) { hardest(an, c, count, take, sid1); for (int t = 0; t < take; t++) out[m++] = sid1[t]; }
            else { for (int t = 0; t < count; t++) out[m++] = c[t]; }
        }
    } else {
        for (int j = 0; j < n; j++) {
            if (labels[j] != la && __fadd_rn(__fsub_rn(dap, an.row[j]), margin) > 0.0f) c[count++] = j;
        }
        if (miner == 3 || count <= negNum) {
            for (int t = 0; t < count; t++) out[m++] = c[t];
        } else {
            hardest(an, c, count, negNum, sid1);
            int kth = sid1[negNum - 1];
            int rest = 0;
            for (int t = 0; t < count; t++) if (an.harder(kth, c[t])) c[rest++] = c[t];
            Counter rng{mix64(batchKey ^ mix64((uint64_t)a * (uint64_t)n + (uint64_t)p)), 0};
            int hard = min(hardNum, negNum);
            rng.choose_front(sid1, negNum, hard);
            for (int t = 0; t < hard; t++) out[m++] = sid1[t];
            int length = rest + negNum - hard;
            for (int t = hard; t < negNum; t++) c[rest + t - hard] = sid1[t];
            int picks = min(randNum, length);
            rng.choose_front(c, length, picks);
            for (int t = 0; t < picks; t++) out[m++] = c[t] | (1 << 31);
        }
    }
    // Ascending negative index: the order the loss is summed in.
    for (int t = 1; t < m; t++) {
        int x = out[t]; int i = t - 1;
        while (i >= 0 && (out[i] & 0x7fffffff) > (x & 0x7fffffff)) { out[i + 1] = out[i]; i--; }
        out[i + 1] = x;
    }
    selectedCount[k] = m;
    candidates[k] = count;
}

// ---- Loss terms and distance coefficients ---------------------------------------------------

__device__ __forceinline__ float slope(int loss, float x) {
    if (loss == 2) return 1.0f / (1.0f + expf(-x));
    return x > 0.0f ? 1.0f : 0.0f;
}

// Both ends of dis[i][j]; an end from the cross-batch memory (index >= rows) is a constant and
// takes no coefficient.
__device__ __forceinline__ void add_coefficient(float* s, int n, int rows, int i, int j, float v) {
    if (i < rows) atomicAdd(s + (size_t)i * n + j, v);
    if (j < rows) atomicAdd(s + (size_t)j * n + i, v);
}

// For each selected triplet: its three distances (for the host's ordered loss pass) and its
// slopes added to the coefficients s (n x n, zeroed before; rows >= `rows` are the memory's and
// stay 0). loss: 0 double-hinge, 1 hinge, 2 soft.
extern "C" __global__ void evaluate(const float* dis, int stride, const int* anchors, int anchorCount, int n,
                                    int rows, int loss, float margin, const int* selected, const int* selectedCount,
                                    int capacity, float* records, float* s) {
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= anchorCount) return;
    int a = anchors[k];
    int p = a + 1;
    float dap = dis[(size_t)a * stride + p];
    for (int t = 0; t < selectedCount[k]; t++) {
        int neg = selected[(size_t)k * capacity + t] & 0x7fffffff;
        float dan = dis[(size_t)a * stride + neg];
        float dpn = dis[(size_t)p * stride + neg];
        float* r = records + ((size_t)k * capacity + t) * 3;
        r[0] = dap; r[1] = dan; r[2] = dpn;
        float s1 = slope(loss, __fadd_rn(__fsub_rn(dap, dan), margin));
        if (s1 != 0.0f) { add_coefficient(s, n, rows, a, p, s1); add_coefficient(s, n, rows, a, neg, -s1); }
        if (loss == 0) {
            float s2 = slope(loss, __fadd_rn(__fsub_rn(dap, dpn), margin));
            if (s2 != 0.0f) { add_coefficient(s, n, rows, a, p, s2); add_coefficient(s, n, rows, p, neg, -s2); }
        }
    }
}

// ---- Gradients -------------------------------------------------------------------------------

// s (coefficients) becomes beta in place, per distance (engine.distance weight()); alpha[i] is
// minus the row sum of beta for translation-invariant distances (kinds 1 and 2), else 0.
extern "C" __global__ void weights(float* s, const float* dis, int stride, int n, int kind, float* alpha) {
    int i = blockIdx.x;
    if (i >= n) return;
    __shared__ float partial[256];
    float sum = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        size_t at = (size_t)i * n + j;
        float sij = s[at];
        float beta;
        bool diag = i == j;
        if (kind == 0) beta = -sij;
        else if (kind == 1) beta = diag ? 0.0f : __fmul_rn(-2.0f, sij);
        else if (kind == 2) { float d = dis[(size_t)i * stride + j]; beta = (diag || d <= 0.0f) ? 0.0f : __fdiv_rn(-sij, d); }
        else beta = diag ? 0.0f : -sij;
        s[at] = beta;
        sum = __fadd_rn(sum, beta);
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) partial[threadIdx.x] = __fadd_rn(partial[threadIdx.x], partial[threadIdx.x + w]);
        __syncthreads();
    }
    if (threadIdx.x == 0) alpha[i] = (kind == 1 || kind == 2) ? -partial[0] : 0.0f;
}

// out = beta (n x n) x basis (n x d), tiled.
extern "C" __global__ void gradient_product(const float* beta, const float* basis, int n, int d, float* out) {
    __shared__ float a[TILE][TILE + 1];
    __shared__ float b[TILE][TILE + 1];
    int i = blockIdx.y * TILE + threadIdx.y;
    int c = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int j0 = 0; j0 < n; j0 += TILE) {
        int ja = j0 + threadIdx.x;
        int jb = j0 + threadIdx.y;
        a[threadIdx.y][threadIdx.x] = (i < n && ja < n) ? beta[(size_t)i * n + ja] : 0.0f;
        b[threadIdx.y][threadIdx.x] = (jb < n && c < d) ? basis[(size_t)jb * d + c] : 0.0f;
        __syncthreads();
        for (int jj = 0; jj < TILE; jj++) acc = __fadd_rn(acc, __fmul_rn(a[threadIdx.y][jj], b[jj][threadIdx.x]));
        __syncthreads();
    }
    if (i < n && c < d) out[(size_t)i * d + c] = acc;
}

// Per row: + alpha_i x_i, and for cosine the projection through the norm. One block per row.
extern "C" __global__ void finish_rows(float* out, const float* basis, const float* alpha, const float* norm,
                                       int n, int d, int cosine) {
    int i = blockIdx.x;
    if (i >= n) return;
    float* g = out + (size_t)i * d;
    const float* x = basis + (size_t)i * d;
    float al = alpha[i];
    for (int k = threadIdx.x; k < d; k += blockDim.x) g[k] = __fadd_rn(g[k], __fmul_rn(al, x[k]));
    if (!cosine) return;
    __shared__ float partial[256];
    __syncthreads();
    float along = 0.0f;
    for (int k = threadIdx.x; k < d; k += blockDim.x) along = __fadd_rn(along, __fmul_rn(g[k], x[k]));
    partial[threadIdx.x] = along;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) partial[threadIdx.x] = __fadd_rn(partial[threadIdx.x], partial[threadIdx.x + w]);
        __syncthreads();
    }
    along = partial[0];
    float nr = norm[i];
    for (int k = threadIdx.x; k < d; k += blockDim.x) {
        g[k] = nr == 0.0f ? 0.0f : __fdiv_rn(__fsub_rn(g[k], __fmul_rn(along, x[k])), nr);
    }
}
