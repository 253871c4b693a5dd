# CPU schedule of the real-feature (Charades-STA CLIP) experiments: the demo's AdamW at lr 2e-3
# with a one-epoch linear warm-up and a linear decay to lr / 10, over 12 epochs. The top-level configs keep the checkpoint of the best val R1@0.5.
_base_ = ['./cpu_demo.py']

max_epochs = 12
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.1, by_epoch=True, begin=1,
         end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
