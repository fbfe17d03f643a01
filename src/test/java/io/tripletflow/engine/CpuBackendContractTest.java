package io.tripletflow.engine;

import io.tripletflow.engine.cpu.CpuMiningBackend;

/** The backend contract on the CPU backend. */
class CpuBackendContractTest extends MiningBackendContract {

    @Override
    protected MiningBackend backend(MiningOptions options) {
        return new CpuMiningBackend(options, 2);
    }
}
