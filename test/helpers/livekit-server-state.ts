/** The simulated LiveKit server API's state (src/simulate/livekit), as tests use it. */
export * from '../../src/simulate/livekit/state.ts';
