"""The benchmark figures keep every row name and CI text inside the drawing."""
from matplotlib.text import Text

from mmemtm.visualization import accuracy_bars


def _rows(name_length: int) -> list:
    base = dict(row='student alone', **{'R1@0.5': (20.0, 2.5)})
    rows = [base]
    for i in range(3):
        rows.append(dict(row=f'row {i} ' + 'x' * name_length, ci=(5.0, -1.2, 11.3),
                         **{'R1@0.5': (25.0 + i, 3.0)}))
    return rows


def test_long_row_names_and_ci_texts_stay_inside_the_figure():
    for length in (10, 80):
        fig = accuracy_bars(_rows(length), title='a title ' * 30)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        figure_box = fig.bbox
        for label in ax.get_yticklabels():
            box = label.get_window_extent(renderer)
            assert box.x0 >= figure_box.x0 - 1, label.get_text()
        axes_box = ax.get_window_extent(renderer)
        for text in ax.texts:
            assert text.get_window_extent(renderer).x1 <= axes_box.x1 + 1, text.get_text()
        title = next(t for t in fig.findobj(Text) if t.get_text() == fig.get_suptitle())
        title = title.get_window_extent(renderer)
        assert figure_box.x0 - 1 <= title.x0 and title.x1 <= figure_box.x1 + 1
