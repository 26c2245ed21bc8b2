import CPNG
import CTurboJPEG
import ZooCore
