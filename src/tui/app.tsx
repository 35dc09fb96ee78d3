// The ink App: paints the controller's screen lines and feeds it key presses and terminal resizes.
import { Box, Text, useApp, useInput, useStdout, type TextProps } from 'ink';
import { useEffect, useSyncExternalStore } from 'react';
import type { BrowserController } from './controller.js';
import type { Segment } from './format.js';
import { screenLines } from './screen.js';

export interface AppProps {
  controller: BrowserController;
  /** Colours on (false for NO_COLOR / --no-color: levels still read as text). */
  color: boolean;
}

function segmentProps(s: Segment, color: boolean): TextProps {
  return {
    ...(color && s.color !== undefined ? { color: s.color } : {}),
    ...(s.bold ? { bold: true } : {}),
    ...(s.dim ? { dimColor: true } : {}),
    ...(s.inverse ? { inverse: true } : {}),
  };
}

export function App({ controller, color }: AppProps) {
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const { exit } = useApp();
  const { stdout } = useStdout();
  useInput((input, key) => controller.key(input, key));
  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);
  useEffect(() => {
    const onResize = () => {
      if (stdout.rows && stdout.columns) controller.resize(stdout.rows, stdout.columns);
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, controller]);
  const lines = screenLines(state);
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate">
          {line.length === 0 || line.every((s) => s.text === '')
            ? ' '
            : line.map((s, j) => (
                <Text key={j} {...segmentProps(s, color)}>
                  {s.text}
                </Text>
              ))}
        </Text>
      ))}
    </Box>
  );
}
