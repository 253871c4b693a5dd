# The "most common relative span" baseline on the bundled TACoS demo subset (planted features).
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/span_prior.py', '../_base_/schedules/cpu_demo.py'
]

optim_wrapper = dict(optimizer=dict(lr=1e-1))
